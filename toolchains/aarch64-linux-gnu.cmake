# SPDX-License-Identifier: Apache-2.0
# CMake toolchain file: ion-agent for 64-bit ARM Linux (aarch64, glibc).
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#
# Works with: Debian multiarch (crossbuild-essential-arm64 + <lib>-dev:arm64, no sysroot), a
# Debian sysroot (-DION_SYSROOT=DIR), a Yocto SDK (source environment-setup-*; CC/CXX and
# OECORE_TARGET_SYSROOT come from it) and a Buildroot host dir (-DION_CROSS_PREFIX=
# .../host/bin/aarch64-buildroot-linux-gnu- -DION_SYSROOT=.../host/aarch64-buildroot-linux-gnu/sysroot).
# CTest runs the target's test binaries under qemu-aarch64(-static) when it is installed.
# Details and examples: toolchains/README.md; the shared logic: ion-cross-common.cmake.
set(ION_TC_PROCESSOR aarch64)
set(ION_TC_TRIPLET aarch64-linux-gnu)
set(ION_TC_MULTIARCH aarch64-linux-gnu)
set(ION_TC_QEMU qemu-aarch64)
set(ION_TC_FLAGS "")
include(${CMAKE_CURRENT_LIST_DIR}/ion-cross-common.cmake)
