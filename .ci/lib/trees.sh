# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# .ci/lib/trees.sh: Debian 13 ("stable") trees for CI legs, made with mmdebstrap and
# entered with chroot. Source it from a leg (bash); it sets no shell options of its own.
#
#   source .ci/lib/trees.sh
#
#   ci_tree_amd64 DIR       amd64 tree: build-essential (gcc 14), cmake, pkgconf, git, and
#                           everything tests/install-deps.sh lists (the -dev libraries,
#                           python3-graphql-core, python3-pytest, openssl, curl, ...).
#   ci_tree_cross DIR       amd64 tree with multiarch arm64 + armhf: crossbuild-essential-
#                           arm64/armhf (gcc 14 cross), the project's -dev libraries for
#                           both foreign arches (with libtss2-dev and libp11-kit-dev for the
#                           key providers), qemu-user (qemu-aarch64, qemu-arm), the native
#                           tools of tests/install-deps.sh, and SoftHSM2's module of each
#                           foreign arch unpacked (ci_softhsm2_module ARCH MULTIARCH).
#   ci_chroot DIR CMD...    runs CMD inside DIR as root with /proc, /sys, /dev (rbind) and
#                           the checkout (read-write) at /src, in a private mount namespace
#                           so nothing stays mounted even if CMD or this shell is killed;
#                           a trap also unmounts explicitly. Clean environment (PATH, HOME,
#                           LANG=C.UTF-8, DEBIAN_FRONTEND); returns CMD's exit status.
#   ci_deps DIR             runs /src/tests/install-deps.sh inside DIR (picks up packages
#                           other parts add to that list later; a no-op when all present).
#   ci_mirror               prints the Debian mirror URL (ION_CI_MIRROR overrides it; else
#                           taken from the host's apt configuration; else deb.debian.org).
#   ci_host_tools PKG...    installs host packages (mmdebstrap and arch-test, which
#                           mmdebstrap needs for foreign architectures and only
#                           Recommends, are always added).
#   ci_build_dir NAME       prints "build-ci/NAME": a build folder relative to the checkout,
#                           the same path outside (CI_ROOT/...) and inside (/src/...).
#   ci_tree_du DIR          prints the tree's size (for the leg's log).
#
# Idempotence: a tree is made once and reused while its stamp file (DIR/.ci-tree-stamp)
# matches the recipe (suite, arches, package list, mmdebstrap options); a changed recipe or a
# half-made tree (no stamp) is deleted and made again. Trees live under CI_ROOT/build-ci/
# (gitignored by /build*/); a fresh CI machine has a fresh checkout and so fresh trees.
# Deleting a tree refuses to run while anything is still mounted below it.
#
# Environment: CI_ROOT (the checkout; default: two levels above this file), ION_CI_MIRROR,
# ION_CI_SUITE (default "stable").

CI_ROOT=${CI_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CI_SUITE=${ION_CI_SUITE:-stable}

# Libraries the project links against, as Debian 13 -dev packages (cross trees need them per
# foreign architecture; the native tree gets them from tests/install-deps.sh).
CI_DEV_LIBS=(libmbedtls-dev libcurl4-openssl-dev libcjson-dev libgpiod-dev libsqlite3-dev
  libcpputest-dev libtss2-dev libp11-kit-dev)

ci_log() { echo "ci-trees: $*" >&2; }

ci_mirror() {
  if [ -n "${ION_CI_MIRROR:-}" ]; then
    echo "$ION_CI_MIRROR"
    return
  fi
  # The main Debian archive the host already uses (CI can reach only that mirror).
  local uri
  uri=$(apt-get indextargets --format '$(ORIGIN)|$(LABEL)|$(REPO_URI)' 2>/dev/null |
    awk -F'|' '$1=="Debian" && $2=="Debian" && !uri {uri = $3} END {print uri}' || true)
  echo "${uri:-http://deb.debian.org/debian/}"
}

ci_host_tools() {
  "$CI_ROOT/tests/install-deps.sh" mmdebstrap arch-test "$@"
}

ci_build_dir() { echo "build-ci/$1"; }

ci_tree_du() { du -sh --one-file-system "$1" 2>/dev/null | cut -f1; }

# The package list of tests/install-deps.sh (its PACKAGES=( ... ) array and any
# PACKAGES+=( ... ) lines, minus "$@"), so a new tree gets them in the same mmdebstrap call.
ci__install_deps_packages() {
  awk '/^[ \t]*PACKAGES\+?=\(/ {grab = 1}
       grab {print; if (index($0, ")")) grab = 0}' "$CI_ROOT/tests/install-deps.sh" |
    sed -e 's/^[ \t]*PACKAGES+\?=(//' -e 's/)[ \t]*$//' -e 's/#.*//' -e 's/"\$@"//' |
    tr -s ' \t\n' ' '
}

ci__mounted_below() {
  local dir
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo
}

ci__tree_remove() {
  local dir=$1
  [ -e "$dir" ] || return 0
  if [ -n "$(ci__mounted_below "$dir")" ]; then
    ci_log "refusing to delete $dir: still mounted: $(ci__mounted_below "$dir" | tr '\n' ' ')"
    return 1
  fi
  rm -rf --one-file-system "$dir"
}

# ci__tree_make DIR VARIANT ARCHES "RECIPE PKGS" [MMDEBSTRAP OPTS...]: mmdebstrap unless the
# stamp matches the recipe. tests/install-deps.sh's list is added to a new tree but is not part of the recipe:
# ci_deps installs later additions into an existing tree instead of rebuilding it.
ci__tree_make() {
  local dir=$1 variant=$2 arches=$3 pkgs=$4
  shift 4
  local mirror key
  mirror=$(ci_mirror)
  key="v1 suite=$CI_SUITE variant=$variant arches=$arches pkgs=$pkgs opts=$* mirror=$mirror"
  if [ -f "$dir/.ci-tree-stamp" ] && [ "$(cat "$dir/.ci-tree-stamp")" = "$key" ]; then
    ci_log "reusing $dir ($(ci_tree_du "$dir"))"
    return 0
  fi
  ci__tree_remove "$dir" || return 1
  { command -v mmdebstrap && command -v arch-test; } >/dev/null || ci_host_tools || return 1
  mkdir -p "$(dirname "$dir")"
  local include
  include=$(echo "$pkgs $(ci__install_deps_packages)" | xargs -n1 | sort -u | paste -sd,)
  ci_log "making $dir: Debian $CI_SUITE $arches ($variant) from $mirror"
  local t0=$SECONDS
  # --skip=cleanup/apt/lists keeps the package lists, so ci_deps can install later additions
  # without another apt-get update. Retries ride out a slow mirror.
  # Its full log goes beside the tree; the tail is shown if it fails.
  if ! mmdebstrap --variant="$variant" --architectures="$arches" \
    --aptopt='Acquire::Retries "3"' --skip=cleanup/apt/lists "$@" \
    --include="$include" "$CI_SUITE" "$dir" "$mirror" >"$dir.log" 2>&1; then
    tail -n 40 "$dir.log" >&2
    ci_log "mmdebstrap failed for $dir (full log: $dir.log)"
    ci__tree_remove "$dir"
    return 1
  fi
  echo "$key" >"$dir/.ci-tree-stamp"
  ci_log "made $dir in $((SECONDS - t0)) s ($(ci_tree_du "$dir"))"
}

# ci__locked DIR FUNC ARGS...: FUNC under DIR's lock file, so a tree that .ci/run is
# already making in the background (prefetch) is waited for, then reused, not made twice.
ci__locked() {
  local dir=$1
  shift
  mkdir -p "$(dirname "$dir")"
  (
    flock 9
    "$@"
  ) 9>"$dir.lock"
}

ci_tree_amd64() {
  local dir=${1:?ci_tree_amd64 DIR}
  ci__locked "$dir" ci__tree_amd64 "$dir"
}

ci__tree_amd64() {
  local dir=$1
  ci__tree_make "$dir" buildd amd64 "cmake pkgconf git" || return 1
  ci_deps "$dir"
}

ci_tree_cross() {
  local dir=${1:?ci_tree_cross DIR}
  ci__locked "$dir" ci__tree_cross "$dir"
}

ci__tree_cross() {
  local dir=$1
  local pkgs="crossbuild-essential-arm64 crossbuild-essential-armhf qemu-user cmake pkgconf"
  local lib
  for lib in "${CI_DEV_LIBS[@]}"; do
    pkgs+=" $lib:arm64 $lib:armhf"
  done
  # Multi-Arch: same packages must ship identical shared files; a binNMU on one arch (e.g.
  # libpsl-dev 0.21.2-1.1+b1 on amd64 only) differs in its man pages and dpkg refuses to
  # unpack it. Documentation is useless in a build tree, so leave it out.
  ci__tree_make "$dir" buildd amd64,arm64,armhf "$pkgs" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' || return 1
  ci_deps "$dir" || return 1
  ci__cross_softhsm "$dir"
}

# SoftHSM2's PKCS#11 module for each foreign architecture, for the key provider tests under
# qemu-user (the module is loaded into the test binary, so it must be the target's build).
# Debian's libsofthsm2 is not Multi-Arch: same (it ships /usr/lib/softhsm/libsofthsm2.so and
# libsofthsm2:arm64 conflicts with :armhf and :amd64), so it cannot be installed beside the
# native one: its package is unpacked (not installed) under CI_SOFTHSM2_ROOT/ARCH instead. Its
# libraries (libssl3t64, libstdc++6) are in the tree through libtss2-dev and the cross
# toolchains; the tests bring their own softhsm2.conf and use the native softhsm2-util.
CI_SOFTHSM2_ROOT=/opt/ion-ci/softhsm2
ci_softhsm2_module() { # ARCH MULTIARCH: the module's path inside the cross tree
  echo "$CI_SOFTHSM2_ROOT/$1/usr/lib/$2/softhsm/libsofthsm2.so"
}

ci__cross_softhsm() {
  local dir=$1
  [ -f "$dir$(ci_softhsm2_module arm64 aarch64-linux-gnu)" ] &&
    [ -f "$dir$(ci_softhsm2_module armhf arm-linux-gnueabihf)" ] && return 0
  ci_chroot "$dir" bash -euo pipefail -c '
    root=$1 tmp=$(mktemp -d)
    cd "$tmp"
    apt-get download -q libsofthsm2:arm64 libsofthsm2:armhf 2>&1 | grep -v -e "^W: Download is performed unsandboxed" -e "^Get:" >&2 || true
    for a in arm64 armhf; do
      rm -rf "$root/$a" && mkdir -p "$root/$a"
      dpkg-deb -x libsofthsm2_*_"$a".deb "$root/$a"
    done
    rm -rf "$tmp"
  ' ci_softhsm "$CI_SOFTHSM2_ROOT" || { ci_log "cannot unpack libsofthsm2 for arm64/armhf"; return 1; }
  ci_log "unpacked libsofthsm2:arm64/armhf under $CI_SOFTHSM2_ROOT in $dir"
}

ci_deps() {
  local dir=${1:?ci_deps DIR}
  # mmdebstrap leaves /etc/machine-id empty; the agent derives its board identity from it,
  # as on a booted system, so give each tree one.
  if [ ! -s "$dir/etc/machine-id" ]; then
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/etc/machine-id"
    echo >>"$dir/etc/machine-id"
  fi
  ci_chroot "$dir" /src/tests/install-deps.sh
}

ci_chroot() {
  local dir=${1:?ci_chroot DIR CMD...}
  shift
  [ -f "$dir/.ci-tree-stamp" ] || {
    ci_log "$dir is not a finished tree"
    return 1
  }
  dir=$(realpath "$dir")
  # A private mount namespace: every mount below dies with the namespace, so a killed leg
  # leaves nothing mounted on the host (and nothing that would make rm -rf reach /dev).
  unshare --mount --propagation private -- bash -c '
    dir=$1 src=$2
    shift 2
    cleanup() {
      for m in src sys dev proc; do
        mountpoint -q "$dir/$m" && umount -R "$dir/$m"
      done
      mountpoint -q "$dir" && umount -R "$dir"
      return 0
    }
    trap cleanup EXIT
    trap "exit 130" INT TERM
    set -e
    mkdir -p "$dir/src"
    # The tree is its own mount, so "/" inside is a mount point, as on a real system: tests
    # that unshare and remount / private (e.g. a tmpfs for disk-full) need that.
    mount --bind "$dir" "$dir"
    mount -t proc proc "$dir/proc"
    mount -t sysfs sysfs "$dir/sys"
    mount --rbind /dev "$dir/dev"
    mount --bind "$src" "$dir/src"
    set +e
    chroot "$dir" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive "$@"
  ' ci_chroot "$dir" "$CI_ROOT" "$@"
}
