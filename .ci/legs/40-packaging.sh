#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: packaging and deployment files.
#   1. lints: Yocto layer + Buildroot tree (and proof the lints fail on broken copies),
#      udev rules (own lint; `udevadm verify` from Debian 13's udev), man page;
#   2. systemd: `systemd-analyze verify` + `security` (exposure <= 2.0), sysusers/tmpfiles;
#   3. .deb for amd64 (host, Debian 12), arm64 and armhf (Debian 13 cross tree), cpack -G DEB,
#      compiled with dpkg-buildflags' hardening flags (checked in the binary: BIND_NOW,
#      fortified calls); the state-directory setting reaching every file (check-state-dir.sh);
#   4. lintian --pedantic on every .deb: nothing may be printed but explained overrides;
#   5. installs, each checking files, user, groups, directories, enablement, `--version`:
#      a. amd64 .deb into a Debian 12 root with systemd and /proc NOT mounted (how board
#         images are built): dpkg -i must succeed (systemd-tmpfiles fails there: || true);
#         then remove (state kept) and purge (state and enablement gone, user kept);
#      b. the same root again with dpkg --root --force-script-chrootless: the maintainer
#         scripts run on the host with DPKG_ROOT set and must act on the root only;
#      c. amd64 .deb into a Debian 12 root without systemd (the useradd fallback path); the
#         arm64 .deb's binary checked for aarch64 from the package. With ION_CI_ARM64_INSTALL=1
#         also the arm64 .deb into a Debian 13 arm64 root, apt/dpkg under qemu-aarch64 via
#         binfmt_misc (about 3 minutes, so not in every run);
#      d. the root of b booted under its own systemd (systemd-nspawn --boot, host network,
#         ION simulator on the host): the shipped unit provisioned, READY=1 and STATUS=,
#         idle restart < 1 s, clean stop, watchdog kill + restart, crash loop never gives up
#         (deploy/tests/booted-systemd.sh);
#   6. prints the installed size per architecture.
# Every tool the leg uses is installed by name (ci_host_tools) and checked (need_tools).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source .ci/lib/trees.sh
ROOT=$PWD
CROSS_TREE=build-ci/trees/deb13-cross
WORK=$(mktemp -d /tmp/ion-packaging.XXXXXX)
declare -a SIZES=() STEPS=() BINFMT_ADDED=()

cleanup() {
  local m
  for m in $(awk -v d="$WORK" 'index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" || true
  done
  rm -rf --one-file-system "$WORK"
  for m in "${BINFMT_ADDED[@]}"; do
    [ -e "/proc/sys/fs/binfmt_misc/$m" ] && echo -1 >"/proc/sys/fs/binfmt_misc/$m" || true
  done
}
trap cleanup EXIT

# need_tools CMD...: each command must exist after ci_host_tools; says which package is missing.
need_tools() {
  local c missing=()
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [ ${#missing[@]} -eq 0 ] || {
    echo "packaging: missing tools: ${missing[*]} (add their packages to main's ci_host_tools)" >&2
    exit 1
  }
}

# deb_buildflags ARCH: dpkg-buildflags' flags (hardening=+all: fortify, stack protector,
# relro + bindnow, ...) as shell exports, for the CMake configure that follows.
# CMake reads CFLAGS/CXXFLAGS/LDFLAGS but not CPPFLAGS (-D_FORTIFY_SOURCE=2): it is folded into
# both, as debhelper's cmake build system does.
deb_buildflags() {
  DEB_HOST_ARCH=$1 DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh
  echo 'export CFLAGS="$CFLAGS $CPPFLAGS" CXXFLAGS="$CXXFLAGS $CPPFLAGS"'
}

# check_hardened ELF READELF: what the flags must have produced.
# (readelf's output is read whole before grep: `readelf | grep -q` under pipefail fails with
# SIGPIPE (141) whenever grep matches before readelf has written everything.)
check_hardened() {
  local elf=$1 readelf=$2 dyn prog syms
  dyn=$("$readelf" -d "$elf") prog=$("$readelf" -lW "$elf") syms=$("$readelf" --dyn-syms -W "$elf")
  grep -Eq 'BIND_NOW|FLAGS.*NOW' <<<"$dyn" || fail "$elf: not linked with -z now"
  grep -q GNU_RELRO <<<"$prog" || fail "$elf: no RELRO"
  grep -q '__[a-z_]*_chk' <<<"$syms" || fail "$elf: no fortified calls (_FORTIFY_SOURCE)"
  echo "  $(basename "$(dirname "$(dirname "$elf")")"): hardened (relro, bindnow, fortify)"
}

step() {
  local name=$1 t0=$SECONDS
  shift
  echo "::: packaging: $name"
  "$@"
  STEPS+=("$name $((SECONDS - t0))s")
}

# --- 1. lints -------------------------------------------------------------------------
lints() {
  deploy/lint-metadata.sh
  bash deploy/tests/lint-selftest.sh "$ROOT"
  /usr/bin/python3 deploy/tests/lint_udev.py deploy/udev/*.rules
  # Debian 12's udev (252) has no `udevadm verify`; Debian 13's (257) does.
  ci_chroot "$CROSS_TREE" bash -euo pipefail -c '
    command -v udevadm >/dev/null || apt-get install -y -qq --no-install-recommends udev >/dev/null
    udevadm verify --resolve-names=never /src/deploy/udev/*.rules'
}

# --- 2 + 3. builds --------------------------------------------------------------------
# The binary only, in the build type every other leg tests (RelWithDebInfo; cpack strips it),
# size-optimised as shipped (ION_AGENT_SIZE_OPTIMIZED: -Os + section GC + LTO, ~60% smaller).
build_amd64() {
  local b
  b=$(ci_build_dir pkg-amd64)
  eval "$(deb_buildflags amd64)"
  cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr -DION_AGENT_SIZE_OPTIMIZED=ON \
    -DION_AGENT_BUILD_TESTS=OFF -DION_AGENT_WERROR=ON >/dev/null
  cmake --build "$b" -j"$(nproc)" --target ion-agent ion-agent-docs-gz
  check_hardened "$b/firmware/ion-agent" readelf
  bash deploy/tests/check-state-dir.sh "$ROOT" /var/lib/ion-station
  bash deploy/tests/check-systemd.sh "$b/deploy/ion-agent.service" "$b/firmware/ion-agent" \
    deploy/man/ion-agent.8 "$b/deploy/ion-agent.sysusers" "$b/deploy/ion-agent.tmpfiles" 2.0
  bash deploy/tests/check-manpage.sh deploy/man/ion-agent.8 "$b/firmware/ion-agent"
  (cd "$b" && rm -f ./*.deb && cpack -G DEB >/dev/null)
}

build_cross() {
  local arch=$1 toolchain=$2 b
  b=$(ci_build_dir "pkg-$arch")
  ci_chroot "$CROSS_TREE" bash -euo pipefail -c '
    b=$1 toolchain=$2 arch=$3
    eval "$(DEB_HOST_ARCH=$arch DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
    export CFLAGS="$CFLAGS $CPPFLAGS" CXXFLAGS="$CXXFLAGS $CPPFLAGS"
    # dpkg-shlibdeps (Depends from the binary) needs dpkg-dev and file in the tree.
    command -v file >/dev/null || apt-get install -y -qq --no-install-recommends file dpkg-dev >/dev/null
    cd /src
    cmake -S . -B "$b" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_INSTALL_PREFIX=/usr -DION_AGENT_SIZE_OPTIMIZED=ON -DION_AGENT_BUILD_TESTS=OFF -DION_AGENT_WERROR=ON >/dev/null
    cmake --build "$b" -j"$(nproc)" --target ion-agent ion-agent-docs-gz
    cd "$b" && rm -f ./*.deb && cpack -G DEB >/dev/null
  ' pkg "$b" "$toolchain" "$arch"
  check_hardened "$b/firmware/ion-agent" readelf  # readelf reads every ELF machine
}

deb_of() { ls "$(ci_build_dir "pkg-$1")"/ion-agent_*_"$1".deb; }

show_deb() {
  local deb
  deb=$(deb_of "$1")
  echo "$1: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
  dpkg-deb -f "$deb" Architecture Depends Installed-Size | sed 's/^/  /'
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$1" ] || {
    echo "packaging: $deb says Architecture $(dpkg-deb -f "$deb" Architecture), want $1" >&2
    return 1
  }
}

# --- 4. installs ----------------------------------------------------------------------
binfmt() {
  local name=$1
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  if [ ! -e "/proc/sys/fs/binfmt_misc/$name" ]; then
    cat "/usr/lib/binfmt.d/$name.conf" >/proc/sys/fs/binfmt_misc/register
    BINFMT_ADDED+=("$name")
  fi
}

# make_root DIR SUITE VARIANT ARCH DEB [INCLUDES]: a fresh root with the .deb installed. apt
# resolves its Depends from the archive; dpkg, running inside the root (under qemu-user for
# a foreign architecture), unpacks it and runs its maintainer scripts.
make_root() {
  local dir=$1 suite=$2 variant=$3 arch=$4 deb=$5 include=${6:-}
  mmdebstrap --variant="$variant" --architectures="$arch" ${include:+--include="$include"} \
    --aptopt='Acquire::Retries "3"' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="copy-in $deb /tmp" \
    --customize-hook="chroot \"\$1\" apt-get install -y --no-install-recommends /tmp/$(basename "$deb")" \
    --customize-hook="chroot \"\$1\" dpkg --audit" \
    "$suite" "$dir" "$(ci_mirror)" >"$dir.log" 2>&1 || {
    tail -n 40 "$dir.log" >&2
    return 1
  }
  grep -A3 'Setting up ion-agent' "$dir.log" | sed 's/^/  /'
}

in_root() {
  local dir=$1
  shift
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

fail() {
  echo "packaging: $*" >&2
  exit 1
}

# check_installed DIR ARCH: what the package promises, seen from inside the root.
check_installed() {
  local dir=$1 arch=$2 f pw groups
  [ "$(dpkg-query --admindir="$dir/var/lib/dpkg" -W -f='${Status} ${Architecture}' ion-agent)" = \
    "install ok installed $arch" ] || fail "$arch: ion-agent is not installed ok"
  for f in /usr/bin/ion-agent /usr/lib/systemd/system/ion-agent.service /usr/lib/sysusers.d/ion-agent.conf \
    /usr/lib/tmpfiles.d/ion-agent.conf /usr/lib/udev/rules.d/60-ion-agent-gpio.rules \
    /usr/lib/udev/rules.d/70-ion-agent-scanners.rules /usr/share/man/man8/ion-agent.8.gz \
    /usr/share/doc/ion-agent/copyright /usr/share/doc/ion-agent/changelog.gz; do
    [ -e "$dir$f" ] || fail "$arch: $f missing"
  done
  file -b "$dir/usr/bin/ion-agent" | grep -q "$( [ "$arch" = arm64 ] && echo aarch64 || echo x86-64)" ||
    fail "$arch: /usr/bin/ion-agent is $(file -b "$dir/usr/bin/ion-agent")"
  pw=$(in_root "$dir" getent passwd ion-agent) || fail "$arch: no user ion-agent"
  case "$pw" in *:/var/lib/ion-agent:*/nologin) ;; *) fail "$arch: ion-agent entry: $pw" ;; esac
  groups=$(in_root "$dir" id -nG ion-agent)
  for g in input dialout gpio; do
    [[ " $groups " == *" $g "* ]] || fail "$arch: ion-agent not in $g (groups: $groups)"
  done
  [ "$(in_root "$dir" stat -c '%a %U' /var/lib/ion-agent)" = "700 ion-agent" ] ||
    fail "$arch: /var/lib/ion-agent is not 0700 ion-agent"
  [ -L "$dir/etc/systemd/system/multi-user.target.wants/ion-agent.service" ] ||
    fail "$arch: ion-agent.service is not enabled"
  [ ! -e "$dir/var/lib/ion-agent/credentials.sealed" ] || fail "$arch: a fresh install has a key?"
  in_root "$dir" ion-agent --version | grep -q '^ion-agent [0-9]' || fail "$arch: ion-agent --version failed"
  echo "  $arch: $(in_root "$dir" ion-agent --version); user: $pw; groups: $groups"
  in_root "$dir" ion-agent version | sed 's/^/  /'
  record_size "$dir" "$arch"
}

record_size() {
  local dir=$1 arch=$2 kib bytes
  kib=$(dpkg-query --admindir="$dir/var/lib/dpkg" -W -f='${Installed-Size}' ion-agent)
  bytes=$(in_root "$dir" dpkg-query -L ion-agent | while read -r f; do
    [ -f "$dir$f" ] && [ ! -L "$dir$f" ] && stat -c %s "$dir$f"
  done | awk '{s += $1} END {print s + 0}')
  SIZES+=("$arch: installed $bytes bytes in files (Installed-Size $kib KiB), .deb $(stat -c %s "$(deb_of "$arch")") bytes")
}

# deb_depends DEB: the package's Depends as an mmdebstrap --include list (names only).
deb_depends() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/ //g' | grep . | paste -sd, -
}

# a. Debian 12 root with systemd and the package's dependencies, made by mmdebstrap (which
# unmounts /proc, /sys, /dev when done); then dpkg -i in a plain chroot, /proc not mounted.
install_amd64_noproc() {
  local dir=$WORK/amd64-root suite deb out
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  deb=$ROOT/$(deb_of amd64)
  mmdebstrap --variant=minbase --architectures=amd64 --include="systemd,$(deb_depends "$deb")" \
    --aptopt='Acquire::Retries "3"' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$suite" "$dir" "$(ci_mirror)" >"$dir.log" 2>&1 || {
    tail -n 40 "$dir.log" >&2
    return 1
  }
  [ ! -e "$dir/proc/self" ] || fail "amd64: /proc is mounted in the root; the case needs it unmounted"
  [ -x "$dir/usr/bin/systemd-tmpfiles" ] || fail "amd64: no systemd in the root"
  cp "$deb" "$dir/tmp/"
  out=$(chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg -i "/tmp/$(basename "$deb")" 2>&1) ||
    fail "amd64: dpkg -i without /proc failed: $out"
  echo "$out" | grep -A4 'Setting up ion-agent' | sed 's/^/  /'
  [ -z "$(chroot "$dir" dpkg --audit)" ] || fail "amd64: dpkg --audit: $(chroot "$dir" dpkg --audit)"
  echo "  amd64: dpkg -i with systemd present and /proc unmounted: ok, dpkg --audit clean"
  check_installed "$dir" amd64
  grep -q '^ion-agent:' "$dir/etc/passwd" || fail "amd64: no user"
  echo "$out" | grep -q "Creating user '\?ion-agent" || echo "$out" | grep -q "Creating user" ||
    fail "amd64: systemd-sysusers did not create the user"
  echo "  amd64: user made by systemd-sysusers"
  # remove keeps state; purge deletes it and disables the unit; the user stays (policy).
  touch "$dir/var/lib/ion-agent/outbox.db"
  out=$(in_root "$dir" dpkg -r ion-agent 2>&1) || fail "dpkg -r: $out"
  [ -e "$dir/var/lib/ion-agent/outbox.db" ] || fail "remove deleted the state"
  [ ! -e "$dir/usr/bin/ion-agent" ] || fail "remove left the binary"
  out=$(in_root "$dir" dpkg -P ion-agent 2>&1) || fail "dpkg -P: $out"
  [ ! -e "$dir/var/lib/ion-agent" ] || fail "purge left /var/lib/ion-agent"
  [ ! -e "$dir/etc/systemd/system/multi-user.target.wants/ion-agent.service" ] || fail "purge left the unit enabled"
  in_root "$dir" getent passwd ion-agent >/dev/null || fail "purge removed the system user"
  echo "  amd64: remove kept state, purge deleted it and the enablement, the user stays"
}

# b. The purged root again, but installed from outside: dpkg --root, the maintainer scripts
# run on the host with DPKG_ROOT=<root>. Host files must stay untouched.
install_amd64_dpkg_root() {
  local dir=$WORK/amd64-root deb out before
  deb=$ROOT/$(deb_of amd64)
  chroot "$dir" userdel ion-agent
  before=$(sha256sum /etc/passwd /etc/group; ls -la /etc/systemd/system/multi-user.target.wants 2>&1)
  out=$(DPKG_ROOT= dpkg --root="$dir" --force-script-chrootless -i "$deb" 2>&1) ||
    fail "amd64: dpkg --root --force-script-chrootless failed: $out"
  [ "$before" = "$(sha256sum /etc/passwd /etc/group; ls -la /etc/systemd/system/multi-user.target.wants 2>&1)" ] ||
    fail "amd64: the DPKG_ROOT install changed the host's users or enabled units"
  [ -z "$(dpkg --root="$dir" --audit)" ] || fail "amd64: dpkg --audit after the DPKG_ROOT install"
  check_installed "$dir" amd64
  echo "  amd64: dpkg --root --force-script-chrootless (DPKG_ROOT): ok, host untouched"
}

# d. The installed root of b, booted: the shipped unit under a real systemd (Debian 12's).
boot_amd64() {
  bash deploy/tests/booted-systemd.sh "$WORK/amd64-root" "$ROOT"
}

# lintian_deb DEB: bookworm's lintian, pedantic, info tags shown; every tag fails the step
# except overrides (deploy/debian/ion-agent.lintian-overrides, each with its reason).
lintian_deb() {
  local out
  # (--show-overrides would count the overridden tags for --fail-on: shown in a second run.)
  out=$(lintian --pedantic --display-info --fail-on error,warning,info,pedantic "$1" 2>&1 |
    grep -v 'running with root privileges is not recommended'; exit "${PIPESTATUS[0]}") || {
    echo "$out" >&2
    fail "lintian: $(basename "$1") is not clean"
  }
  [ -z "$out" ] || fail "lintian: $(basename "$1"): $out"
  echo "  $(basename "$1"): lintian --pedantic: clean; overrides:"
  lintian --pedantic --display-info --show-overrides "$1" 2>&1 | grep '^O: ' | sed 's/^/    /'
}

install_arm64() {
  local dir=$WORK/arm64-root
  binfmt qemu-aarch64
  make_root "$dir" "$CI_SUITE" apt arm64 "$ROOT/$(deb_of arm64)"
  [ ! -e "$dir/usr/bin/systemd-sysusers" ] || fail "arm64: expected a root without systemd"
  echo "  arm64: no systemd in the root: user made by the useradd fallback"
  check_installed "$dir" arm64
}

# c. The useradd fallback: a root without systemd (native, so it takes seconds).
install_amd64_nosystemd() {
  local dir=$WORK/amd64-nosd suite
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  make_root "$dir" "$suite" apt amd64 "$ROOT/$(deb_of amd64)"
  [ ! -e "$dir/usr/bin/systemd-sysusers" ] || fail "amd64: expected a root without systemd"
  echo "  amd64: no systemd in the root: user made by the useradd fallback"
  check_installed "$dir" amd64
}

# The arm64 package carries an aarch64 binary (read from the .deb, no install).
check_arm64_deb() {
  local x=$WORK/arm64-deb
  mkdir -p "$x"
  dpkg-deb -x "$(deb_of arm64)" "$x"
  file -b "$x/usr/bin/ion-agent" | grep -q aarch64 || fail "arm64: the .deb's ion-agent is $(file -b "$x/usr/bin/ion-agent")"
  echo "  arm64: the .deb's /usr/bin/ion-agent: $(file -b "$x/usr/bin/ion-agent" | cut -d, -f1-2)"
}

main() {
  ci_host_tools qemu-user-static dpkg-dev file groff-base man-db python3-kconfiglib systemd \
    lintian arch-test init-system-helpers passwd binutils systemd-container util-linux procps
  need_tools mmdebstrap arch-test lintian qemu-aarch64-static dpkg-deb dpkg-buildflags dpkg-shlibdeps \
    file groff man readelf systemd-analyze systemd-sysusers systemd-tmpfiles deb-systemd-helper \
    useradd chroot /usr/bin/python3 systemd-nspawn nsenter pgrep
  step "cross tree" ci_tree_cross "$CROSS_TREE"
  step lints lints
  step "build amd64 + systemd checks" build_amd64
  step "build arm64" build_cross arm64 toolchains/aarch64-linux-gnu.cmake
  step "build armhf" build_cross armhf toolchains/arm-linux-gnueabihf.cmake
  for a in amd64 arm64 armhf; do show_deb "$a"; done
  step lintian eval 'for a in amd64 arm64 armhf; do lintian_deb "$(deb_of $a)"; done'
  step "install amd64 (Debian 12 root, systemd, /proc unmounted)" install_amd64_noproc
  step "install amd64 (dpkg --root, DPKG_ROOT)" install_amd64_dpkg_root
  step "amd64 booted under systemd (nspawn)" boot_amd64
  step "install amd64 (Debian 12 root without systemd)" install_amd64_nosystemd
  step "arm64 .deb binary" check_arm64_deb
  if [ "${ION_CI_ARM64_INSTALL:-0}" = 1 ]; then
    step "install arm64 (Debian 13 arm64 root, qemu)" install_arm64
  else
    SIZES+=("arm64: Installed-Size $(dpkg-deb -f "$(deb_of arm64)" Installed-Size) KiB (control), .deb $(stat -c %s "$(deb_of arm64)") bytes")
  fi
  SIZES+=("armhf: Installed-Size $(dpkg-deb -f "$(deb_of armhf)" Installed-Size) KiB (control), .deb $(stat -c %s "$(deb_of armhf)") bytes")
  echo "::: packaging: installed size per architecture"
  printf '  %s\n' "${SIZES[@]}"
  echo "::: packaging: steps: ${STEPS[*]}"
}

# Sourcing this file (to run one step by hand) defines the functions only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main
fi
