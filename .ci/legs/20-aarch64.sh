#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: aarch64 cross build in a Debian 13 tree (gcc 14 cross, multiarch arm64 libraries)
# with toolchains/aarch64-linux-gnu.cmake; CTest runs the unit tests under qemu-aarch64.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash .ci/lib/cross-leg.sh aarch64 toolchains/aarch64-linux-gnu.cmake
