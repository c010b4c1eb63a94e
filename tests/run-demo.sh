#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README command 1: the demo. Builds ion-agent and runs the best end-to-end scenario that
# exists so far.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ion-agent >/dev/null
"$BUILD/firmware/ion-agent" version
