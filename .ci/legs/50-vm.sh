#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: the real-kernel suite (CTest label hw) in a QEMU VM on the Debian 12 host: gpio-sim,
# uinput and evdev on a Debian kernel, the hw tests run through a read-only 9p share.
# Builds in the README test command's folder with its flags, so that command (run last)
# reuses this build instead of compiling everything again.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD_DIR:-build}
t0=$SECONDS
tests/install-deps.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DION_AGENT_WERROR=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
echo "::: vm: build $((SECONDS - t0)) s"
t1=$SECONDS
ctest --test-dir "$BUILD" --output-on-failure -L hw
echo "::: vm: ctest -L hw (incl. kernel/module preparation on first run) $((SECONDS - t1)) s"
