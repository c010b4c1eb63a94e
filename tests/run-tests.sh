#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README command 2: installs what is missing, builds ion-agent with every warning an error,
# and runs every test (unit, integration, hw where the machine allows). Extra arguments go to
# ctest, e.g. `tests/run-tests.sh -L unit` or `-L slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DION_AGENT_WERROR=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" -LE slow "$@"
