#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: armhf cross build in a Debian 13 tree (gcc 14 cross, multiarch armhf libraries,
# 64-bit time_t) with toolchains/arm-linux-gnueabihf.cmake; unit tests under qemu-arm.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash .ci/lib/cross-leg.sh armhf toolchains/arm-linux-gnueabihf.cmake
