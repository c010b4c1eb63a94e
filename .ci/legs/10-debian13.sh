#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: Debian 13 ("stable") amd64 tree, native build with gcc 14, Mbed TLS 3.6 and
# libgpiod 2.x, every warning an error, then every test except the VM (hw, leg 50), long
# (slow) ones and the network fault suites (faults: netns, nftables, a 10-station fleet; about
# 5 minutes of waiting on outages that depend on the daemon, not on the library generation),
# which the host leg runs. Ends with CTest's summary line.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/trees.sh

TREE=build-ci/trees/deb13-amd64
BUILD=$(ci_build_dir deb13-amd64)
t0=$SECONDS
ci_host_tools
ci_tree_amd64 "$TREE"
echo "::: debian13: setup $((SECONDS - t0)) s, tree $(ci_tree_du "$TREE")"

t1=$SECONDS
ci_chroot "$TREE" bash -euo pipefail -c '
  cd /src
  echo "debian13: $(g++ --version | head -1); cmake $(cmake --version | head -1 | cut -d" " -f3)"
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DION_AGENT_WERROR=ON >/dev/null
  grep -E "^(ION_GPIOD|ION_PC_gpiod_VERSION|MbedTLS_DIR)" "$1/CMakeCache.txt" || true
  cmake --build "$1" -j"$(nproc)"
  ctest --test-dir "$1" --output-on-failure -j"$(nproc)" -LE "hw|slow|faults"
' debian13 "$BUILD"
echo "::: debian13: build+test $((SECONDS - t1)) s"
