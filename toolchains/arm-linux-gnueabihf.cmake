# SPDX-License-Identifier: Apache-2.0
# CMake toolchain file: ion-agent for 32-bit ARM Linux, hard-float (armhf, ARMv7, glibc).
#
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#
# Works with: Debian multiarch (crossbuild-essential-armhf + <lib>-dev:armhf, no sysroot), a
# Debian sysroot (-DION_SYSROOT=DIR), a Yocto SDK (source environment-setup-*) and a Buildroot
# host dir (-DION_CROSS_PREFIX=.../host/bin/arm-buildroot-linux-gnueabihf-
# -DION_SYSROOT=.../host/arm-buildroot-linux-gnueabihf/sysroot). CTest runs the target's test
# binaries under qemu-arm(-static) when it is installed. See toolchains/README.md.
#
# 64-bit time_t: Debian 13's armhf libraries are built with _TIME_BITS=64 (the "t64"
# transition), so structs that hold a time_t (Mbed TLS sessions, struct timespec in libgpiod
# and curl APIs) have the 64-bit layout there. Compiling our code with a 32-bit time_t would
# link fine and silently corrupt those structs; we always ask for the 64-bit ABI (also right
# for Yocto >= 5.0 and Buildroot with a recent glibc, and needed past 2038 anyway).
set(ION_TC_PROCESSOR arm)
set(ION_TC_TRIPLET arm-linux-gnueabihf)
set(ION_TC_MULTIARCH arm-linux-gnueabihf)
set(ION_TC_QEMU qemu-arm)
set(ION_TC_FLAGS "-D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64")
include(${CMAKE_CURRENT_LIST_DIR}/ion-cross-common.cmake)
