#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building and testing ion-agent needs on Debian 12/13 (root, or sudo).
# Idempotent and quiet when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates openssl
  libmbedtls-dev libcurl4-openssl-dev libcjson-dev libgpiod-dev gpiod libsqlite3-dev
  libcpputest-dev
  python3 python3-graphql-core python3-pytest curl
  nftables iproute2 fiu-utils libfiu-dev e2fsprogs
)
# deploy checks: man page lint (groff), Buildroot Kconfig parse (systemd-analyze: systemd);
# man-db because `systemd-analyze verify` runs man for Documentation=man:ion-agent(8) wherever
# systemd is installed (the swtpm/SoftHSM2 dependencies bring it into minimal trees).
PACKAGES+=(groff-base python3-kconfiglib man-db)
# key providers: TPM 2.0 (TSS2 + swtpm for the tests), PKCS#11 (p11-kit + SoftHSM2 for the tests).
PACKAGES+=(libtss2-dev swtpm libp11-kit-dev softhsm2)
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
