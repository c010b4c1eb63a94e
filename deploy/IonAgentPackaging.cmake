# SPDX-License-Identifier: Apache-2.0
# Debian package via CPack: `cpack -G DEB` in a build directory (native or cross).
#   - Architecture: the *target's* Debian name (arm64 for an aarch64 cross build), from
#     dpkg-architecture and the compiler's multiarch triplet, else from CMAKE_SYSTEM_PROCESSOR.
#   - Depends: computed by dpkg-shlibdeps from the binary (needs the target's -dev packages
#     installed through dpkg, i.e. a native or multiarch build), else the list below.
#   - Maintainer scripts: deploy/debian/{postinst,prerm,postrm}.in.
if(NOT CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)
  return()  # built as a subproject: the parent owns packaging
endif()

# --- Architecture ----------------------------------------------------------------------
function(ion_deb_architecture out)
  find_program(ION_DPKG_ARCHITECTURE dpkg-architecture)
  if(ION_DPKG_ARCHITECTURE AND CMAKE_LIBRARY_ARCHITECTURE)
    execute_process(COMMAND ${ION_DPKG_ARCHITECTURE} -t${CMAKE_LIBRARY_ARCHITECTURE} -qDEB_HOST_ARCH
                    OUTPUT_VARIABLE arch OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                    RESULT_VARIABLE rc)
    if(rc EQUAL 0 AND arch)
      set(${out} "${arch}" PARENT_SCOPE)
      return()
    endif()
  endif()
  set(p "${CMAKE_SYSTEM_PROCESSOR}")
  if(p MATCHES "^(x86_64|AMD64|amd64)$")
    set(arch amd64)
  elseif(p MATCHES "^(aarch64|arm64|ARM64)$")
    set(arch arm64)
  elseif(p MATCHES "^arm")
    set(arch armhf)  # Debian's armel (soft float) has no SBC users left to speak of
  elseif(p MATCHES "^i[3-6]86$")
    set(arch i386)
  elseif(p MATCHES "^(riscv64|ppc64le|s390x)$")
    set(arch ${p})
  else()
    message(WARNING "deploy: no Debian architecture for '${p}'; set CPACK_DEBIAN_PACKAGE_ARCHITECTURE")
    set(arch ${p})
  endif()
  set(${out} "${arch}" PARENT_SCOPE)
endfunction()
ion_deb_architecture(ION_DEB_ARCH)

# --- Version: git describe -> Debian upstream version ------------------------------------
# 0.1.0 -> 0.1.0; 0.1.0-12-gabc1234-dirty -> 0.1.0+12.gabc1234.dirty (sorts after 0.1.0).
set(ION_DEB_VERSION "${ION_AGENT_VERSION_STRING}")
string(FIND "${ION_DEB_VERSION}" "-" _dash)
if(_dash GREATER -1)
  string(SUBSTRING "${ION_DEB_VERSION}" 0 ${_dash} _head)
  math(EXPR _tail_start "${_dash} + 1")
  string(SUBSTRING "${ION_DEB_VERSION}" ${_tail_start} -1 _tail)
  string(REPLACE "-" "." _tail "${_tail}")
  set(ION_DEB_VERSION "${_head}+${_tail}")
endif()

# --- Maintainer scripts ------------------------------------------------------------------
set(ION_DEB_SCRIPTS)
foreach(script postinst prerm postrm)
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/debian/${script}.in
                 ${CMAKE_CURRENT_BINARY_DIR}/debian-tmp/${script} @ONLY)
  file(COPY ${CMAKE_CURRENT_BINARY_DIR}/debian-tmp/${script}
       DESTINATION ${CMAKE_CURRENT_BINARY_DIR}/debian
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                        WORLD_READ WORLD_EXECUTE)
  list(APPEND ION_DEB_SCRIPTS ${CMAKE_CURRENT_BINARY_DIR}/debian/${script})
endforeach()

# --- CPack -------------------------------------------------------------------------------
# A mail host lintian accepts; distributors building their own .deb set their address.
set(ION_AGENT_DEB_MAINTAINER "ion-agent maintainers <ion-agent@users.noreply.github.com>"
    CACHE STRING "Maintainer field of the .deb")
find_program(ION_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(ION_FILE_UTILITY file)  # CPackDeb needs it to pick the ELF files
if(ION_DPKG_SHLIBDEPS AND ION_FILE_UTILITY AND NOT ION_AGENT_STATIC)
  set(_shlibdeps_default ON)
else()
  set(_shlibdeps_default OFF)
endif()
option(ION_AGENT_DEB_SHLIBDEPS "Compute the .deb's Depends with dpkg-shlibdeps" ${_shlibdeps_default})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ion-agent)
set(CPACK_PACKAGE_VENDOR "ion-agent project")
set(CPACK_PACKAGE_VERSION "${ION_DEB_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "shop-floor agent: barcode scanners and station inputs to First Resonance ION")
set(CPACK_PACKAGE_CONTACT "${ION_AGENT_DEB_MAINTAINER}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY ion-agent)
# The unit and the maintainer scripts name configured absolute paths, so the package
# installs exactly where the build was configured to: /usr for a real .deb.
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "deploy: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; a Debian package wants /usr")
endif()
set(CPACK_DEBIAN_PACKAGE_NAME ion-agent)
set(CPACK_DEBIAN_PACKAGE_VERSION "${ION_DEB_VERSION}")
# Native package (no Debian revision): the project is its own upstream and packager, and
# deploy/debian/changelog is the one changelog (lintian wants changelog.gz for native).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${ION_DEB_ARCH}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ION_AGENT_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "ion-agent reads USB HID and serial barcode scanners and GPIO station inputs
(buttons, pedals) on a single-board computer, turns them into part and run
updates for First Resonance ION by a JSON station profile, and delivers them
over HTTPS, keeping every accepted event durable on the board while the network
is away. Runs as a hardened, unprivileged systemd service.")
# useradd/usermod for the fallback path when systemd-sysusers is absent (containers);
# deb-systemd-helper/-invoke for the maintainer scripts (what debhelper's misc:Depends adds).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd, udev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ${ION_AGENT_DEB_SHLIBDEPS})
if(NOT ION_AGENT_DEB_SHLIBDEPS AND NOT ION_AGENT_STATIC)
  message(STATUS "deploy: dpkg-shlibdeps not used; the .deb lists no shared-library Depends")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${ION_DEB_SCRIPTS})
# What dh_strip does besides stripping: drop the compilers' .comment section (lintian:
# binary-has-unneeded-section). Runs at install time, after the binary is installed.
find_program(ION_OBJCOPY NAMES ${CMAKE_OBJCOPY} objcopy)
if(ION_OBJCOPY)
  install(CODE "execute_process(COMMAND \"${ION_OBJCOPY}\" --remove-section=.comment
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/ion-agent\"
                  RESULT_VARIABLE rc)
                if(NOT rc EQUAL 0)
                  message(FATAL_ERROR \"objcopy --remove-section=.comment failed\")
                endif()")
endif()
# Deliberate lintian tags, each with its reason (deploy/debian/ion-agent.lintian-overrides).
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/debian/ion-agent.lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME ion-agent)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_STRIP_FILES ON)

# dpkg-shlibdeps looks up libraries for DEB_HOST_ARCH: in a cross build that must be the
# target's architecture, set here because cpack reads this file at packaging time.
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_BINARY_DIR}/CPackProjectConfig.cmake)
file(WRITE ${CPACK_PROJECT_CONFIG_FILE}
     "# Generated by deploy/IonAgentPackaging.cmake\nset(ENV{DEB_HOST_ARCH} \"${ION_DEB_ARCH}\")\n")
if(CMAKE_CROSSCOMPILING AND CMAKE_OBJDUMP)
  # cpack strips with CMAKE_STRIP; dpkg-shlibdeps reads the target's ELF with objdump.
  file(APPEND ${CPACK_PROJECT_CONFIG_FILE} "set(ENV{OBJDUMP} \"${CMAKE_OBJDUMP}\")\n")
endif()

include(CPack)
