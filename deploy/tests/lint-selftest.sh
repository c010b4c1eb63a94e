#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proves the metadata and udev lints can fail: each case breaks one thing in a scratch copy
# of the repo's deploy files and expects the lint to exit non-zero naming that thing. The
# unbroken copy must pass first, so a failure is the mutation's doing.
# Usage: lint-selftest.sh REPO_ROOT
set -euo pipefail
root=$(cd "$1" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 failed=0

fresh() {
  rm -rf "$tmp/r" && mkdir -p "$tmp/r"
  cp -r "$root/LICENSE" "$root/CMakeLists.txt" "$root/cmake" "$root/deploy" "$tmp/r/"
}
recipe=deploy/yocto/meta-ion-agent/recipes-ion/ion-agent/ion-agent_git.bb
imageinc=deploy/yocto/meta-ion-agent/conf/ion-agent-image.inc
layer=deploy/yocto/meta-ion-agent/conf/layer.conf
brcfg=deploy/buildroot/package/ion-agent/Config.in
brmk=deploy/buildroot/package/ion-agent/ion-agent.mk
brhash=deploy/buildroot/package/ion-agent/ion-agent.hash
rules=deploy/udev/70-ion-agent-scanners.rules

run_lint() {
  case "$1" in
  udev) "$py" "$tmp/r/deploy/tests/lint_udev.py" "$tmp/r"/deploy/udev/*.rules ;;
  *) "$py" "$tmp/r/deploy/lint_metadata.py" --root "$tmp/r" ;;
  esac
}

# expect NAME LINT FILE SED-SCRIPT MESSAGE
expect() {
  local name=$1 kind=$2 file=$3 script=$4 want=$5 out
  fresh
  cp "$tmp/r/$file" "$tmp/orig"
  sed -i -e "$script" "$tmp/r/$file"
  if cmp -s "$tmp/orig" "$tmp/r/$file"; then
    echo "FAIL $name: the mutation changed nothing"; failed=$((failed + 1)); return
  fi
  if out=$(run_lint "$kind" 2>&1); then
    echo "FAIL $name: lint passed a broken copy"; failed=$((failed + 1)); return
  fi
  if ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL $name: lint failed without '$want':"; echo "$out"; failed=$((failed + 1)); return
  fi
  echo "ok   $name"; pass=$((pass + 1))
}

fresh
run_lint metadata >/dev/null || { echo "FAIL baseline: the unbroken metadata does not lint clean"; exit 1; }
run_lint udev >/dev/null || { echo "FAIL baseline: the unbroken udev rules do not lint clean"; exit 1; }

expect yocto-md5 metadata $recipe 's/md5=3b83ef96/md5=0b83ef96/' "LIC_FILES_CHKSUM md5"
expect license-edited metadata LICENSE '$a extra line' "md5 of LICENSE"
expect license-edited-br metadata LICENSE '$a extra line' "sha256 of LICENSE"
expect src-uri-branch metadata $recipe 's/;branch=main//' "needs ;branch="
expect src-uri-form metadata $recipe 's|git://|ftp://|' "unsupported form"
expect old-override metadata $recipe 's/^FILES:${PN}/FILES_${PN}/' "old override syntax"
expect unbalanced-quote metadata $recipe 's/^SECTION = "console\/network"/SECTION = "console\/network/' "not a BitBake statement"
expect inline-python metadata $recipe "\$a X = \"\${@bb.utils.contains('A', 'b' 'c', d(}\"" "inline python does not compile"
expect depends-typo metadata $recipe 's/ sqlite3 / sqlite /' "unknown recipe or package 'sqlite'"
# Issue 22: what made the recipe parse online or break conventions, one breakage each.
expect autorev metadata $recipe 's/^SRCREV = .*/SRCREV ??= "${AUTOREV}"/' "SRCREV uses AUTOREV"
expect srcrev-weak metadata $recipe 's/^SRCREV = /SRCREV ?= /' "pin it with '='"
expect src-uri-fixed metadata $recipe 's/^SRC_URI = .*/SRC_URI = "git:\/\/github.com\/x\/y.git;protocol=https;branch=main"/' "overridable variable"
expect src-uri-hard metadata $recipe 's/^ION_AGENT_SRC_URI ?= /ION_AGENT_SRC_URI = /' "must be set with ?="
expect pv-no-git metadata $recipe 's/^PV = "0.1.0+git"/PV = "0.1.0"/' "want \"0.1.0+git\""
expect pv-missing metadata $recipe '/^PV = /d' "PV is not set"
expect libgpiod-depends metadata $recipe 's/ libgpiod"$/"/' "DEPENDS lacks libgpiod"
expect gpiod-by-release metadata $recipe "s/^PACKAGECONFIG ??= \"\"/PACKAGECONFIG ??= \"\${@bb.utils.contains('LAYERSERIES_CORENAMES', 'kirkstone', 'gpiod-v1', 'gpiod-v2', d)}\"/" "follows the release name"
expect oecmake-assign metadata $recipe 's/^EXTRA_OECMAKE += /EXTRA_OECMAKE = /' "EXTRA_OECMAKE = : use +="
expect useradd-path metadata $recipe 's|--shell ${base_sbindir}/nologin|--shell /sbin/nologin|' "hard-coded path /sbin/nologin"
expect useradd-home metadata $recipe 's|--home-dir ${ION_AGENT_STATE_DIR}|--home-dir ${localstatedir}/lib/ion-agent|' "--home-dir must be"
expect state-dir-cmake metadata $recipe '/-DION_AGENT_STATE_DIR=/d' "must pass -DION_AGENT_STATE_DIR"
expect image-append metadata $imageinc 's/^CORE_IMAGE_EXTRA_INSTALL += /IMAGE_INSTALL:append = " /' "reaches initramfs"
expect image-plus metadata $imageinc 's/^CORE_IMAGE_EXTRA_INSTALL += /IMAGE_INSTALL += /' "reaches initramfs"
expect doc-recipe-name metadata deploy/DEPLOYING.md 's/ion-agent_git.bb/ion-agent_0.1.0.bb/' "names ion-agent_0.1.0.bb"
expect br-force-tls metadata $brcfg '/select BR2_PACKAGE_LIBCURL_FORCE_TLS/d' "without BR2_PACKAGE_LIBCURL_FORCE_TLS"
expect br-systemd metadata $brcfg '/depends on BR2_INIT_SYSTEMD # /d' "must depend on BR2_INIT_SYSTEMD"
expect br-wants-symlink metadata $brmk 's|^\t$(INSTALL) -D -m 0644 $(ION_AGENT_PKGDIR)/80-ion-agent.preset \\$|\tln -sf ../ion-agent.service $(TARGET_DIR)/usr/lib/systemd/system/multi-user.target.wants/ion-agent.service \\|' "fixed .wants symlink"
expect br-preset-content metadata deploy/buildroot/package/ion-agent/80-ion-agent.preset 's/^enable /disable /' "does not say 'enable ion-agent.service'"
expect br-rsync metadata $brmk "s|--exclude='/build\*/' ||" "copies the checkout's build directories"
expect br-state-home metadata $brmk 's|\* $(ION_AGENT_STATE_DIR) - input|* /var/lib/ion-agent - input|' "want \$(ION_AGENT_STATE_DIR)"
expect br-state-cmake metadata $brmk '/-DION_AGENT_STATE_DIR=/d' "must pass -DION_AGENT_STATE_DIR"
expect cmake-option metadata $recipe 's/-DION_AGENT_BUILD_TESTS=OFF/-DION_AGENT_BUILD_TEST=OFF/' "-DION_AGENT_BUILD_TEST: no such CMake"
expect no-useradd metadata $recipe 's/^inherit cmake pkgconfig systemd useradd/inherit cmake pkgconfig systemd/' "does not inherit useradd"
expect gpiod-config metadata $recipe 's/^PACKAGECONFIG\[gpiod-v2\] = "-DION_AGENT_GPIOD=v2/PACKAGECONFIG[gpiod-v2] = "-DION_AGENT_GPIOD=v1/' "PACKAGECONFIG[gpiod-v2] must pass"
expect unit-name metadata $recipe 's/"ion-agent.service"/"ion-agentd.service"/' "does not ship"
expect layer-compat metadata $layer 's/"kirkstone scarthgap"/"scarthgap"/' "LAYERSERIES_COMPAT_ion-agent must name"
expect br-symbol metadata $brcfg 's/select BR2_PACKAGE_CJSON/select BR2_PACKAGE_CJSONN/' "BR2_PACKAGE_CJSONN: not defined here"
expect br-not-selected metadata $brcfg '/select BR2_PACKAGE_SQLITE/d' "does not select BR2_PACKAGE_SQLITE"
expect br-hash metadata $brhash 's/cfc7749b/cfc7749c/' "sha256 of LICENSE"
expect br-cmake-package metadata $brmk 's/cmake-package/generic-package/' "must end with"
expect br-users metadata $brmk 's/input,dialout,gpio ION/input,dialout ION/' "must be in groups"
expect br-source metadata deploy/buildroot/Config.in 's|package/ion-agent/Config.in|package/ion-agnt/Config.in|' "does not exist"
# A versioned file name for a git recipe (what DEPLOYING.md once named, and did not exist).
fresh
mv "$tmp/r/$recipe" "$tmp/r/${recipe%_git.bb}_0.1.0.bb"
if out=$(run_lint metadata 2>&1); then
  echo "FAIL recipe-name: lint passed a layer without ion-agent_git.bb"; failed=$((failed + 1))
elif ! grep -qF "no ion-agent_git.bb recipe" <<<"$out"; then
  echo "FAIL recipe-name: lint failed without naming the recipe:"; echo "$out"; failed=$((failed + 1))
else
  echo "ok   recipe-name"; pass=$((pass + 1))
fi
if "$py" -c 'import kconfiglib' 2>/dev/null; then
  expect br-kconfig-syntax metadata $brcfg 's/^endchoice$/endchoise/' "kconfiglib"
fi
expect udev-vid-case udev $rules 's/idVendor}=="05e0", ATTRS{idProduct}=="1200"/idVendor}=="05E0", ATTRS{idProduct}=="1200"/' "lowercase hex"
expect udev-operator udev $rules 's/^KERNEL!="event\[0-9\]\*"/KERNEL="event[0-9]*"/' "is a match key"
expect udev-goto udev $rules 's/^LABEL="ion_agent_scanners_tty"/LABEL="ion_agent_scanners_serial"/' "has no LABEL"
expect udev-group udev deploy/udev/60-ion-agent-gpio.rules 's/GROUP="gpio"/GROUP="plugdev"/' "GROUP='plugdev'"

echo "lint-selftest: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
