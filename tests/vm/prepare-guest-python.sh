#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ION simulator for a foreign-architecture guest. The VM shares the build machine's root,
# so an arm64 guest can run the arm64 test binaries (their libraries are installed multiarch)
# but not the build machine's /usr/bin/python3 or openssl, which the simulator needs. Python's
# interpreter and openssl's CLI are not co-installable across architectures, but everything
# they load is: this installs the guest architecture's libpython<X.Y>-stdlib (Multi-Arch:
# same, beside the native one; the pure-Python standard library and python3-graphql-core are
# shared) and unpacks only the two executables into a cache folder, out of dpkg's way.
# Where the build machine has swtpm, the guest gets its own the same way (swtpm-libs and
# libtpms0 are Multi-Arch: same, the swtpm executable is not): the TPM device test starts a
# second, independent TPM inside the guest.
#
# Usage: prepare-guest-python.sh ARCH CACHE_DIR
# Prints the folder holding bin/python3, bin/openssl (and bin/swtpm) for ARCH. Exit 77 when
# packages are missing and we are not root (the caller skips), 1 on failure.
set -euo pipefail
arch=${1:?ARCH}
cache=${2:?CACHE_DIR}
log() { echo "vm: guest python: $*" >&2; }

pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
native=$(dpkg --print-architecture)
# The same version as the native interpreter: Multi-Arch: same packages must match it.
want=$(dpkg-query -W -f='${Version}' "libpython$pyver-minimal:$native")
libs=("libpython$pyver-stdlib:$arch" "libpython$pyver-minimal:$arch")
missing=()
for p in "${libs[@]}"; do
  [ "$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null)" = "install ok installed $want" ] || missing+=("$p=$want")
done
swtpm_ver=$(dpkg-query -W -f='${Version}' "swtpm:$native" 2>/dev/null || true)
if [ -n "$swtpm_ver" ]; then
  tpms_ver=$(dpkg-query -W -f='${Version}' "libtpms0:$native")
  [ "$(dpkg-query -W -f='${Status} ${Version}' "swtpm-libs:$arch" 2>/dev/null)" = "install ok installed $swtpm_ver" ] ||
    missing+=("swtpm-libs:$arch=$swtpm_ver")
  [ "$(dpkg-query -W -f='${Status} ${Version}' "libtpms0:$arch" 2>/dev/null)" = "install ok installed $tpms_ver" ] ||
    missing+=("libtpms0:$arch=$tpms_ver")
fi
# What the interpreter itself links beyond libc (python<X.Y>-minimal's Depends).
for p in "libexpat1:$arch" "zlib1g:$arch"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "needs root once to install: ${missing[*]}"
    exit 77
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

dir=$cache/python-$pyver-$want-$arch${swtpm_ver:+-swtpm-$swtpm_ver}
if [ ! -x "$dir/bin/python3" ] || [ ! -x "$dir/bin/openssl" ] || { [ -n "$swtpm_ver" ] && [ ! -x "$dir/bin/swtpm" ]; }; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/ion-guest-python.XXXXXX")
  chmod 755 "$work"  # apt-get download fetches as the _apt user
  trap 'rm -rf "$work"' EXIT
  ssl=$(dpkg-query -W -f='${Version}' "openssl:$native" 2>/dev/null || true)
  (cd "$work" && apt-get download -qq "python$pyver-minimal:$arch=$want" "openssl:$arch${ssl:+=$ssl}" \
    ${swtpm_ver:+"swtpm:$arch=$swtpm_ver"} >/dev/null) ||
    { log "apt-get download python$pyver-minimal:$arch openssl:$arch${swtpm_ver:+ swtpm:$arch} failed"; exit 1; }
  for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
  done
  mkdir -p "$dir.tmp/bin"
  cp "$work/root/usr/bin/python$pyver" "$dir.tmp/bin/python3"
  cp "$work/root/usr/bin/openssl" "$dir.tmp/bin/openssl"
  [ -z "$swtpm_ver" ] || cp "$work/root/usr/bin/swtpm" "$dir.tmp/bin/swtpm"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  log "unpacked python$pyver, openssl${swtpm_ver:+ and swtpm} for $arch into $dir"
fi
echo "$dir"
