#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: the embedded configuration (CMakePresets.json preset "embedded", issue 17) on the
# Debian 12 host. tests/bench/footprint.sh builds libcurl (Mbed TLS, HTTP(S) only) and cJSON
# from Debian's source packages once per version (cached in build-ci/cache/embedded; a cold
# cache adds about 3 minutes on 2 cores), then the agent with static libcurl, Mbed TLS, cJSON
# and SQLite, and prints the footprint figures. The leg fails when the binary needs a shared
# library other than libc's and libgpiod, and runs the client's integration suites
# (net_integration_tests: real HTTPS to the ION simulator: CA file, a wrong CA refused, a
# pinned key mismatch refused; batches, kept-alive connections closed after a mutation,
# streamed uploads) against the Mbed TLS libcurl, the same tests the default (OpenSSL libcurl)
# build runs in the host leg.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=build-ci/embedded-out
BUILD=build-ci/embedded
t0=$SECONDS
tests/bench/footprint.sh --out "$OUT" --build "$BUILD" --tests --targets "ion-agent agent_tests net_integration_tests"
echo "::: embedded: build+figures $((SECONDS - t0)) s"

# libc's own libraries and libgpiod only: everything else is linked in.
extra=$(ldd "$OUT/ion-agent" | awk '{print $1}' |
  grep -vE '^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libgpiod\.so\.[0-9]+)$' || true)
if [ -n "$extra" ]; then
  echo "::: embedded: FAILED: ion-agent still needs shared $extra" >&2
  exit 1
fi
"$OUT/ion-agent" --version

# The agent's unit suites on this build: its SQLite omits SQL the agent does not use and its
# Mbed TLS keeps only a TLS client and the vault's primitives (deploy/embedded/), so every
# query of the outbox and every vault operation must still work here.
t2=$SECONDS
"$BUILD/tests/agent_tests"
echo "::: embedded: agent unit suites $((SECONDS - t2)) s"

t1=$SECONDS
# The simulator is reached by name: Debian 12's Mbed TLS (2.28) matches only DNS names in a
# certificate, not IP addresses, so https://127.0.0.1 fails verification there where OpenSSL
# accepts it (a real difference between the two builds; ION itself is reached by name). The
# simulator's own tests (ion_sim.*, IonSimHelper.*: no TLS client) check its 127.0.0.1 URLs and run in
# the host leg.
ION_SIM_URL_HOST=localhost ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" -L integration -LE slow \
  -R '^(GraphqlClient|Upload)\.'
echo "::: embedded: integration tests $((SECONDS - t1)) s"
