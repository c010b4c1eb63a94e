# SPDX-License-Identifier: Apache-2.0
# Finds every external library from the system (or the sysroot), never from the network.
# Each dependency becomes one INTERFACE target named ion::<lib>, so the rest of the build
# does not care whether it came from a CMake config, pkg-config or a bare find_library.
find_package(PkgConfig REQUIRED)

# ion_static_archives(<out> <flag>...): ION_AGENT_EMBEDDED links a library and what it needs
# from static archives but the C library itself from libc.so: each -l<lib> becomes the path of
# lib<lib>.a (from the flags' -L folders first), a .so path its .a sibling; the C library's
# parts (c, m, dl, pthread, rt) stay -l flags. A missing archive is an error, not a silent
# shared link.
function(ion_static_archives out)
  set(_dirs)
  set(_res)
  foreach(_f IN LISTS ARGN)
    if(_f MATCHES "^-L(.+)")
      list(APPEND _dirs "${CMAKE_MATCH_1}")
    elseif(_f MATCHES "^-l(gcc|gcc_s)$")
      # The compiler driver links its runtime itself (-static-libgcc: the archive).
    elseif(_f MATCHES "^-l(c|m|dl|pthread|rt)$")
      list(APPEND _res "${_f}")
    elseif(_f MATCHES "^-l(.+)")
      set(_n "${CMAKE_MATCH_1}")
      find_library(ION_ARCHIVE_${_n} NAMES lib${_n}.a HINTS ${_dirs})
      if(NOT ION_ARCHIVE_${_n})
        message(FATAL_ERROR "ION_AGENT_EMBEDDED: no static lib${_n}.a (tests/bench/footprint.sh builds them)")
      endif()
      list(APPEND _res "${ION_ARCHIVE_${_n}}")
    elseif(_f MATCHES "^(.*)\\.so[.0-9]*$")
      if(NOT EXISTS "${CMAKE_MATCH_1}.a")
        message(FATAL_ERROR "ION_AGENT_EMBEDDED: ${_f} has no static ${CMAKE_MATCH_1}.a")
      endif()
      list(APPEND _res "${CMAKE_MATCH_1}.a")
    else()
      list(APPEND _res "${_f}")
    endif()
  endforeach()
  set(${out} "${_res}" PARENT_SCOPE)
endfunction()

# ion_pkg(<name> <module>...): ion::<name> from pkg-config; honours ION_AGENT_STATIC and
# ION_AGENT_EMBEDDED: static archives for every <name> but the libraries that stay shared in
# an image: libgpiod, and the key providers' TSS2 and p11-kit, which load their own modules
# at run time (tss2-tctildr dlopens the TCTI, p11-kit the token's module), so a static copy
# would still need the shared ones beside it.
function(ion_pkg name)
  pkg_check_modules(ION_PC_${name} REQUIRED ${ARGN})
  add_library(ion::${name} INTERFACE IMPORTED GLOBAL)
  if(ION_AGENT_EMBEDDED AND NOT name MATCHES "^(gpiod|tss2|tss2sys|p11kit)$")
    ion_static_archives(_libs ${ION_PC_${name}_STATIC_LDFLAGS})
    set(_inc ${ION_PC_${name}_STATIC_INCLUDE_DIRS})
    set(_cflags ${ION_PC_${name}_STATIC_CFLAGS_OTHER})
    message(STATUS "ion::${name} (static): ${_libs}")
  elseif(ION_AGENT_STATIC)
    set(_libs ${ION_PC_${name}_STATIC_LDFLAGS})
    set(_inc ${ION_PC_${name}_STATIC_INCLUDE_DIRS})
    set(_cflags ${ION_PC_${name}_STATIC_CFLAGS_OTHER})
  else()
    set(_libs ${ION_PC_${name}_LDFLAGS})
    set(_inc ${ION_PC_${name}_INCLUDE_DIRS})
    set(_cflags ${ION_PC_${name}_CFLAGS_OTHER})
  endif()
  set_target_properties(ion::${name} PROPERTIES
    INTERFACE_LINK_LIBRARIES "${_libs}"
    INTERFACE_INCLUDE_DIRECTORIES "${_inc}"
    INTERFACE_COMPILE_OPTIONS "${_cflags}")
  set(ION_PC_${name}_VERSION "${ION_PC_${name}_VERSION}" PARENT_SCOPE)
endfunction()

ion_pkg(curl libcurl)
ion_pkg(cjson libcjson)
ion_pkg(sqlite3 sqlite3)
ion_pkg(gpiod libgpiod)

# Key providers (agent/vault only). auto: built when the libraries are there, so images and
# cross sysroots without them still build; on: required; off: never.
set(ION_HAVE_TPM2 OFF)
if(NOT ION_AGENT_TPM2 STREQUAL "off")
  pkg_check_modules(ION_PC_tss2_probe QUIET tss2-esys tss2-tctildr tss2-mu tss2-rc tss2-sys)
  if(ION_PC_tss2_probe_FOUND)
    ion_pkg(tss2 tss2-esys tss2-tctildr tss2-mu tss2-rc)
    ion_pkg(tss2sys tss2-sys)  # tests only (tests/keys/swtpm.cpp flushes handles like tpmrm does)
    set(ION_HAVE_TPM2 ON)
  elseif(ION_AGENT_TPM2 STREQUAL "on")
    message(FATAL_ERROR "ION_AGENT_TPM2=on but tss2-esys/tss2-tctildr/tss2-mu/tss2-rc were not found "
                        "(Debian: libtss2-dev)")
  endif()
endif()
message(STATUS "TPM 2.0 key provider: ${ION_HAVE_TPM2}")
set(ION_HAVE_PKCS11 OFF)
if(NOT ION_AGENT_PKCS11 STREQUAL "off")
  pkg_check_modules(ION_PC_p11kit_probe QUIET p11-kit-1)
  if(ION_PC_p11kit_probe_FOUND)
    ion_pkg(p11kit p11-kit-1)
    set(ION_HAVE_PKCS11 ON)
  elseif(ION_AGENT_PKCS11 STREQUAL "on")
    message(FATAL_ERROR "ION_AGENT_PKCS11=on but p11-kit-1 was not found (Debian: libp11-kit-dev)")
  endif()
endif()
message(STATUS "PKCS#11 key provider: ${ION_HAVE_PKCS11}")

# Mbed TLS: 3.x ships a CMake config (and .pc files); Debian's 2.28 ships neither.
add_library(ion::mbedtls INTERFACE IMPORTED GLOBAL)
if(ION_AGENT_EMBEDDED)
  set(_mb_names libmbedtls.a libmbedx509.a libmbedcrypto.a)  # the archives, not the CMake config
else()
  set(_mb_names mbedtls mbedx509 mbedcrypto)
  find_package(MbedTLS CONFIG QUIET)
endif()
if(MbedTLS_FOUND)
  set_target_properties(ion::mbedtls PROPERTIES
    INTERFACE_LINK_LIBRARIES "MbedTLS::mbedtls;MbedTLS::mbedx509;MbedTLS::mbedcrypto")
  set(ION_MBEDTLS_HOW "CMake config ${MbedTLS_VERSION}")
else()
  find_path(MBEDTLS_INCLUDE_DIR mbedtls/version.h REQUIRED)
  list(GET _mb_names 0 _mb_tls)
  list(GET _mb_names 1 _mb_x509)
  list(GET _mb_names 2 _mb_crypto)
  find_library(MBEDTLS_LIB NAMES ${_mb_tls} REQUIRED)
  find_library(MBEDX509_LIB NAMES ${_mb_x509} REQUIRED)
  find_library(MBEDCRYPTO_LIB NAMES ${_mb_crypto} REQUIRED)
  set_target_properties(ion::mbedtls PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${MBEDTLS_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${MBEDTLS_LIB};${MBEDX509_LIB};${MBEDCRYPTO_LIB}")
  foreach(_h build_info.h version.h)
    if(NOT _mb_ver AND EXISTS "${MBEDTLS_INCLUDE_DIR}/mbedtls/${_h}")
      file(STRINGS "${MBEDTLS_INCLUDE_DIR}/mbedtls/${_h}" _mb_ver REGEX "define MBEDTLS_VERSION_STRING ")
    endif()
  endforeach()
  string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" _mb_ver "${_mb_ver}")
  set(ION_MBEDTLS_HOW "find_library, ${_mb_ver}")
endif()
message(STATUS "Mbed TLS: ${ION_MBEDTLS_HOW}")

# libgpiod generation: the v1 (1.6) and v2 APIs are incompatible; one backend is compiled.
if(ION_AGENT_GPIOD STREQUAL "auto")
  if(ION_PC_gpiod_VERSION VERSION_GREATER_EQUAL 2.0)
    set(ION_GPIOD_API v2)
  else()
    set(ION_GPIOD_API v1)
  endif()
else()
  set(ION_GPIOD_API ${ION_AGENT_GPIOD})
endif()
message(STATUS "libgpiod ${ION_PC_gpiod_VERSION}: ${ION_GPIOD_API} backend")

if(ION_AGENT_BUILD_TESTS)
  # Always pkg-config: Debian 12's CppUTestConfig.cmake is broken and Debian 13's armhf one
  # claims 8-byte pointers (TOOLCHAIN-NOTES §1).
  pkg_check_modules(ION_PC_cpputest REQUIRED cpputest)
  add_library(ion::cpputest INTERFACE IMPORTED GLOBAL)
  # Link CppUTest without the -lstdc++ that cpputest.pc puts first: with static libstdc++
  # that order defines operator new twice.
  set_target_properties(ion::cpputest PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ION_PC_cpputest_INCLUDE_DIRS}"
    INTERFACE_LINK_DIRECTORIES "${ION_PC_cpputest_LIBRARY_DIRS}"
    INTERFACE_LINK_LIBRARIES "CppUTest;CppUTestExt"
    # CppUTest's new/delete macros break placement new and std headers; leaks are checked by
    # LeakSanitizer in the ION_AGENT_SANITIZE build instead.
    INTERFACE_COMPILE_DEFINITIONS "CPPUTEST_MEM_LEAK_DETECTION_DISABLED")
endif()
