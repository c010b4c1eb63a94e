# SPDX-License-Identifier: Apache-2.0
SUMMARY = "Shop-floor agent: barcode scanners and station inputs to First Resonance ION"
DESCRIPTION = "ion-agent reads USB HID and serial barcode scanners and GPIO station \
inputs, turns them into part and run updates for First Resonance ION following a JSON \
station profile, and delivers them over HTTPS, keeping every accepted event durable on \
the board while the network is away. Runs as a hardened, unprivileged systemd service."
SECTION = "console/network"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57"

# The source. A downstream layer (or local.conf) points at its mirror or fork in one line:
#   ION_AGENT_SRC_URI = "git://git.example.com/ion-agent.git;protocol=ssh;branch=main"
# SRCREV is pinned, so parsing never asks the network (no AUTOREV, no git ls-remote); the
# release process sets it to the release commit. Building a local checkout instead (works
# offline; SRC_URI is then not fetched):
#   INHERIT += "externalsrc"
#   EXTERNALSRC:pn-ion-agent = "/path/to/ion-agent"
ION_AGENT_SRC_URI ?= "git://github.com/ion-agent/ion-agent.git;protocol=https;branch=main"
SRC_URI = "${ION_AGENT_SRC_URI}"
SRCREV = "21987ed1beb5a88dd77a8bb8b7b3b65cdba99c4e"
PV = "0.1.0+git"
S = "${WORKDIR}/git"

# libgpiod is always needed: CMake picks the v1 or v2 backend from the libgpiod that is
# provided (its pkg-config version), so PREFERRED_VERSION_libgpiod decides, not the release.
DEPENDS = "mbedtls curl cjson sqlite3 libgpiod"

inherit cmake pkgconfig systemd useradd

# Optional: force one libgpiod generation (CMake then fails if the other one is provided).
PACKAGECONFIG ??= ""
PACKAGECONFIG[gpiod-v1] = "-DION_AGENT_GPIOD=v1,,libgpiod"
PACKAGECONFIG[gpiod-v2] = "-DION_AGENT_GPIOD=v2,,libgpiod"
PACKAGECONFIG_CONFLICTS[gpiod-v1] = "gpiod-v2"

# The one state-directory setting: the agent's default, the unit, sysusers/tmpfiles and
# the user's home below all follow it.
ION_AGENT_STATE_DIR ?= "${localstatedir}/lib/ion-agent"

EXTRA_OECMAKE += " \
    -DION_AGENT_BUILD_TESTS=OFF \
    -DION_AGENT_STATE_DIR=${ION_AGENT_STATE_DIR} \
    -DION_AGENT_SYSTEMD_UNITDIR=${systemd_system_unitdir} \
    -DION_AGENT_SYSUSERSDIR=${nonarch_libdir}/sysusers.d \
    -DION_AGENT_TMPFILESDIR=${nonarch_libdir}/tmpfiles.d \
    -DION_AGENT_UDEVRULESDIR=${nonarch_base_libdir}/udev/rules.d \
"

SYSTEMD_SERVICE:${PN} = "ion-agent.service"
SYSTEMD_AUTO_ENABLE:${PN} = "enable"

# The image has the user at first boot even where systemd-sysusers does not run
# (read-only rootfs); the sysusers.d entry is installed as well.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system --force gpio; --system --force input"
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir ${ION_AGENT_STATE_DIR} \
    --shell ${base_sbindir}/nologin --user-group --groups input,dialout,gpio ion-agent"

FILES:${PN} += " \
    ${systemd_system_unitdir}/ion-agent.service \
    ${nonarch_libdir}/sysusers.d/ion-agent.conf \
    ${nonarch_libdir}/tmpfiles.d/ion-agent.conf \
    ${nonarch_base_libdir}/udev/rules.d \
    ${datadir}/ion-agent \
"
RDEPENDS:${PN} += "ca-certificates"
