# SPDX-License-Identifier: Apache-2.0
SUMMARY = "Shop-floor agent: barcode scanners and station inputs to First Resonance ION"
DESCRIPTION = "ion-agent reads USB HID and serial barcode scanners and GPIO station \
inputs, turns them into part and run updates for First Resonance ION following a JSON \
station profile, and delivers them over HTTPS, keeping every accepted event durable on \
the board while the network is away. Runs as a hardened, unprivileged systemd service."
SECTION = "console/network"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57"

# Point these at your mirror or fork; pin SRCREV for release images, e.g. in local.conf:
#   SRCREV:pn-ion-agent = "<commit>"
# To build a local checkout instead: INHERIT += "externalsrc" and
#   EXTERNALSRC:pn-ion-agent = "/path/to/ion-agent"
ION_AGENT_GIT_REPO ??= "github.com/ion-agent/ion-agent.git"
ION_AGENT_GIT_BRANCH ??= "main"
SRC_URI = "git://${ION_AGENT_GIT_REPO};protocol=https;branch=${ION_AGENT_GIT_BRANCH}"
SRCREV ??= "${AUTOREV}"
S = "${WORKDIR}/git"

DEPENDS = "mbedtls curl cjson sqlite3"

inherit cmake pkgconfig systemd useradd

# libgpiod changed its API in 2.0: kirkstone ships 1.6, scarthgap 2.x.
PACKAGECONFIG ??= "${@bb.utils.contains('LAYERSERIES_CORENAMES', 'kirkstone', 'gpiod-v1', 'gpiod-v2', d)}"
PACKAGECONFIG[gpiod-v1] = "-DION_AGENT_GPIOD=v1,,libgpiod"
PACKAGECONFIG[gpiod-v2] = "-DION_AGENT_GPIOD=v2,,libgpiod"
PACKAGECONFIG_CONFLICTS[gpiod-v1] = "gpiod-v2"

EXTRA_OECMAKE = " \
    -DION_AGENT_BUILD_TESTS=OFF \
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
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir /var/lib/ion-agent \
    --shell /sbin/nologin --user-group --groups input,dialout,gpio ion-agent"

FILES:${PN} += " \
    ${systemd_system_unitdir}/ion-agent.service \
    ${nonarch_libdir}/sysusers.d/ion-agent.conf \
    ${nonarch_libdir}/tmpfiles.d/ion-agent.conf \
    ${nonarch_base_libdir}/udev/rules.d \
    ${datadir}/ion-agent \
"
RDEPENDS:${PN} += "ca-certificates"
