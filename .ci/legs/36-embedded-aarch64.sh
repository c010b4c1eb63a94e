#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: the embedded configuration cross-built for aarch64 (issue 17) in the Debian 13 cross
# tree: tests/bench/footprint.sh with ION_FOOTPRINT_TARGET=aarch64 builds Mbed TLS 3.6, SQLite,
# cJSON and libcurl for arm64 from Debian 13's source packages and the agent with preset
# embedded-aarch64, and prints its size. The other generation of the libraries than the
# embedded leg's (Debian 12: Mbed TLS 2.28, curl 7.88). Under qemu-aarch64: the agent's unit
# suites, and the client's integration suites against the ION simulator (real TLS through the
# Mbed TLS libcurl). Fails when the binary needs a shared library other than libc's and
# libgpiod.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/trees.sh
TREE=build-ci/trees/deb13-cross
t0=$SECONDS
ci_host_tools
ci_tree_cross "$TREE"
echo "::: embedded-aarch64: setup $((SECONDS - t0)) s"
ci_chroot "$TREE" bash -euo pipefail -c '
  cd /src
  out=build-ci/embedded-aarch64-out build=build-ci/embedded-aarch64
  t0=$SECONDS
  ION_FOOTPRINT_TARGET=aarch64 tests/bench/footprint.sh --out "$out" --build "$build" --tests \
    --targets "ion-agent agent_tests net_integration_tests"
  echo "::: embedded-aarch64: build $((SECONDS - t0)) s"
  readelf -h "$out/ion-agent" | grep -E "Class|Machine"
  extra=$(readelf -d "$out/ion-agent" | sed -n "s/.*(NEEDED).*\[\(.*\)\]/\1/p" |
    grep -vE "^(libc\.so\.6|libm\.so\.6|ld-linux-aarch64\.so\.1|libgpiod\.so\.[0-9]+)$" || true)
  if [ -n "$extra" ]; then
    echo "::: embedded-aarch64: FAILED: ion-agent still needs shared $extra" >&2
    exit 1
  fi
  qemu-aarch64 "$out/ion-agent" --version
  t1=$SECONDS
  qemu-aarch64 "$build/tests/agent_tests"
  # By name, as in the embedded leg: Mbed TLS matches DNS names in certificates, not addresses.
  ION_SIM_URL_HOST=localhost ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -L integration \
    -LE slow -R "^(GraphqlClient|Upload)\."
  echo "::: embedded-aarch64: tests under qemu-aarch64 $((SECONDS - t1)) s"
'
