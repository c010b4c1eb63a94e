#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark: builds ion-agent as shipped (RelWithDebInfo + ION_AGENT_SIZE_OPTIMIZED, in
# build-bench; BUILD_DIR=DIR uses an existing build instead) and prints the figures table of
# tests/bench/agent_bench.py. Not a test: these are read, not asserted (machines are noisy).
# Needs the ION simulator's Python packages (tests/install-deps.sh).
# Usage: tests/bench/run.sh [--scans N] [--flood N]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD_DIR:-build-bench}
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DION_AGENT_SIZE_OPTIMIZED=ON \
    -DION_AGENT_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target ion-agent >/dev/null
ION_AGENT_EXE="$BUILD/firmware/ion-agent" exec /usr/bin/python3 tests/bench/agent_bench.py "$@"
