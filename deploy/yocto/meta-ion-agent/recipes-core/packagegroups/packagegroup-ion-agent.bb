# SPDX-License-Identifier: Apache-2.0
SUMMARY = "An ion-agent station: the agent and the tools to set up its inputs"
LICENSE = "Apache-2.0"

inherit packagegroup

RDEPENDS:${PN} = " \
    ion-agent \
    ca-certificates \
    libgpiod-tools \
    usbutils \
"
