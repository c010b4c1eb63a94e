# SPDX-License-Identifier: Apache-2.0
# Shared body of toolchains/<triplet>.cmake; include()d by them after they set
#   ION_TC_PROCESSOR  CMAKE_SYSTEM_PROCESSOR (aarch64, arm)
#   ION_TC_TRIPLET    GNU triplet of the Debian cross compilers (aarch64-linux-gnu, ...)
#   ION_TC_MULTIARCH  Debian multiarch directory name (usually the triplet)
#   ION_TC_QEMU       qemu-user program name (qemu-aarch64, qemu-arm)
#   ION_TC_FLAGS      extra C/C++ flags for the target (e.g. 64-bit time_t on armhf)
#
# Inputs, first one set wins (CMake -D, then the environment):
#   sysroot:  ION_SYSROOT (-D or env), OECORE_TARGET_SYSROOT (Yocto SDK env),
#             SDKTARGETSYSROOT (Yocto SDK env). Unset: multiarch root (the Debian
#             libraries under /usr/lib/<multiarch>, e.g. a Debian 13 tree with :arm64 -dev
#             packages installed).
#   compiler: CMAKE_C_COMPILER/CMAKE_CXX_COMPILER (-D); else CC/CXX from the environment
#             (a Yocto SDK sets them, with its own --sysroot and -mcpu flags); else
#             ${ION_CROSS_PREFIX}gcc/g++ where ION_CROSS_PREFIX (-D or env, or CROSS_COMPILE
#             env) is e.g. /opt/buildroot/output/host/bin/aarch64-buildroot-linux-gnu-;
#             else <triplet>-gcc/g++ from PATH (Debian's crossbuild-essential-*).
#   emulator: ION_QEMU (-D or env) names the qemu-user binary; else <qemu>-static or <qemu>
#             from PATH. Not found: CMAKE_CROSSCOMPILING_EMULATOR stays unset and CTest cannot
#             run the target's tests (the build still works).
#
# Failure behaviour: a sysroot path that does not exist is a configure error (a typo would
# otherwise silently build against the host's multiarch libraries).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${ION_TC_PROCESSOR})

# Toolchain files are read again for every try_compile; pass our inputs through.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ION_SYSROOT ION_CROSS_PREFIX ION_QEMU)

function(_ion_tc_first out)
  foreach(v IN LISTS ARGN)
    if(DEFINED ${v} AND NOT "${${v}}" STREQUAL "")
      set(${out} "${${v}}" PARENT_SCOPE)
      return()
    endif()
    if(DEFINED ENV{${v}} AND NOT "$ENV{${v}}" STREQUAL "")
      set(${out} "$ENV{${v}}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# --- sysroot --------------------------------------------------------------------------------
_ion_tc_first(_ion_sysroot ION_SYSROOT OECORE_TARGET_SYSROOT SDKTARGETSYSROOT)
if(_ion_sysroot)
  get_filename_component(_ion_sysroot "${_ion_sysroot}" ABSOLUTE)
  if(NOT IS_DIRECTORY "${_ion_sysroot}")
    message(FATAL_ERROR "toolchain: sysroot ${_ion_sysroot} does not exist")
  endif()
  set(CMAKE_SYSROOT "${_ion_sysroot}")
  set(CMAKE_FIND_ROOT_PATH "${_ion_sysroot}")
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  # Debian sysroots (and multiarch-style SDKs) keep libraries in lib/<multiarch>.
  if(IS_DIRECTORY "${_ion_sysroot}/usr/lib/${ION_TC_MULTIARCH}")
    set(CMAKE_LIBRARY_ARCHITECTURE ${ION_TC_MULTIARCH})
  endif()
else()
  # Multiarch: the target's libraries sit beside the host's under /usr/lib/<multiarch>, and
  # CMake's find_* already search there once it knows the library architecture.
  set(CMAKE_LIBRARY_ARCHITECTURE ${ION_TC_MULTIARCH})
endif()

# --- compilers ------------------------------------------------------------------------------
_ion_tc_first(_ion_prefix ION_CROSS_PREFIX CROSS_COMPILE)
if(NOT _ion_prefix)
  set(_ion_prefix "${ION_TC_TRIPLET}-")
endif()
if(NOT DEFINED CMAKE_C_COMPILER AND "$ENV{CC}" STREQUAL "")
  set(CMAKE_C_COMPILER "${_ion_prefix}gcc")
endif()
if(NOT DEFINED CMAKE_CXX_COMPILER AND "$ENV{CXX}" STREQUAL "")
  set(CMAKE_CXX_COMPILER "${_ion_prefix}g++")
endif()

set(CMAKE_C_FLAGS_INIT "${ION_TC_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${ION_TC_FLAGS}")
if(_ion_sysroot AND IS_DIRECTORY "${_ion_sysroot}/usr/lib/${ION_TC_MULTIARCH}")
  # A cross gcc built for another glibc (e.g. Debian 12's g++ 12 with a Debian 13 sysroot)
  # searches its own /usr/<triplet>/lib before the sysroot and links against the wrong glibc
  # (undefined GLIBC_2.38 symbols). Putting the sysroot's library folder first fixes it, and
  # -rpath-link lets ld resolve the libraries' own dependencies inside the sysroot.
  set(_ion_libdir "${_ion_sysroot}/usr/lib/${ION_TC_MULTIARCH}")
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${_ion_libdir} -Wl,-rpath-link,${_ion_libdir}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")
endif()

# --- pkg-config -----------------------------------------------------------------------------
# Point pkg-config at the target's .pc files only, never the build machine's. A Yocto SDK's
# environment-setup script already exports PKG_CONFIG_SYSROOT_DIR/PKG_CONFIG_PATH: keep them.
if("$ENV{PKG_CONFIG_SYSROOT_DIR}" STREQUAL "" OR NOT _ion_sysroot)
  set(_ion_pc_root "${_ion_sysroot}")
  set(ENV{PKG_CONFIG_LIBDIR}
    "${_ion_pc_root}/usr/lib/${ION_TC_MULTIARCH}/pkgconfig:${_ion_pc_root}/usr/lib/pkgconfig:${_ion_pc_root}/usr/share/pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_ion_pc_root}")
endif()

# --- emulator for CTest (and try_run) --------------------------------------------------------
_ion_tc_first(_ion_qemu ION_QEMU)
if(NOT _ion_qemu)
  find_program(ION_QEMU_PROGRAM NAMES ${ION_TC_QEMU}-static ${ION_TC_QEMU} NO_CMAKE_FIND_ROOT_PATH)
  if(ION_QEMU_PROGRAM)
    set(_ion_qemu "${ION_QEMU_PROGRAM}")
  endif()
endif()
if(_ion_qemu)
  if(_ion_sysroot)
    # -L makes qemu load the target's ld.so and libraries from the sysroot. (A sysroot
    # without the /lib -> usr/lib link makes qemu fall back to the host's multiarch files:
    # create the link when unpacking a Debian sysroot; see toolchains/README.md.)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${_ion_qemu};-L;${_ion_sysroot}")
  elseif(NOT EXISTS "/usr/lib/${ION_TC_MULTIARCH}/libc.so.6"
         AND EXISTS "/usr/${ION_TC_TRIPLET}/lib/libc.so.6")
    # Only the cross compiler's own glibc (Debian libc6-*-cross) is there: use it.
    set(CMAKE_CROSSCOMPILING_EMULATOR "${_ion_qemu};-L;/usr/${ION_TC_TRIPLET}")
  else()
    # Multiarch: the target's ld.so and libraries are on the build machine's root.
    set(CMAKE_CROSSCOMPILING_EMULATOR "${_ion_qemu}")
  endif()
endif()
