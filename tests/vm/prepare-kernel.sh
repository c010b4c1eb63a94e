#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# prepare-kernel.sh ARCH ABI VERSION SERIES OUTDIR
# Fetches Debian's linux-image-ABI-ARCH (downloaded, not installed) and linux-source-SERIES
# (same VERSION), and fills OUTDIR with:
#   vmlinux (or vmlinuz)  the kernel; vmlinux is the uncompressed image, booted via PVH on
#                         amd64, which saves ~6 s of firmware + decompression under TCG
#   modules/*.ko          configfs, evdev, uinput, the virtio 9p chain, irq_sim, gpio-sim
#   modules/order         insmod order (dependencies first)
#   .tpm-modules          the TPM 2.0 TIS driver modules added to order ("(built in)" where
#                         the kernel has them, as Debian's amd64 does; "(none)"); tpm_tis
#                         is built out of tree where only tpm_tis_core is there (arm64)
#   .ready                written last; a half-made OUTDIR is rebuilt
# gpio-sim and irq_sim (and tpm_tis) are built out of tree against linux-headers-ABI-ARCH,
# only when the kernel config does not already provide them. No kernel source is kept: only three files
# are extracted from the source tarball, in a temporary folder.
set -euo pipefail
arch=$1 abi=$2 kver=$3 series=$4 out=$5
log() { echo "vm-prepare: $*" >&2; }
die() { log "error: $*"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ion-vm-prep.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out/modules"
kname=$abi-$arch

# apt-get download as root warns that the _apt user cannot write here; harmless.
fetch() { (cd "$tmp" && apt-get download -q "$@" 2>&1 | grep -v -e '^W: Download is performed unsandboxed' -e '^Get:' >&2 || true); }

t0=$SECONDS
fetch "linux-image-$kname:$arch=$kver"
img_deb=$(ls "$tmp"/linux-image-"$kname"_*.deb 2>/dev/null | head -n1)
[ -n "$img_deb" ] || die "could not download linux-image-$kname=$kver"
dpkg-deb -x "$img_deb" "$tmp/img"
rm -f "$img_deb"
# The package ships no modules.dep (depmod writes it at install time): make one here.
[ -d "$tmp/img/lib/modules" ] || ln -s usr/lib "$tmp/img/lib"
moddir=$tmp/img/lib/modules/$kname
depmod -b "$tmp/img" "$kname" || die "depmod failed for $kname"
config=$tmp/img/boot/config-$kname
vmlinuz=$tmp/img/boot/vmlinuz-$kname
[ -f "$vmlinuz" ] && [ -f "$config" ] || die "linux-image-$kname has no /boot/vmlinuz or config"
log "kernel image fetched in $((SECONDS - t0)) s"

kconf() { sed -n "s/^$1=\(.*\)/\1/p" "$config"; }

# Headers of a foreign-architecture kernel cannot be installed beside the build machine's
# compiler (they depend on the target's gcc and kernel image): unpack the arch headers, the
# common headers and the build machine's kbuild tools into one folder instead, and point the
# arch Makefile at the unpacked common part. Prints the headers folder.
unpack_headers() {
  local deps pkgs=("linux-headers-$kname:$arch") d
  deps=$(apt-cache show "linux-headers-$kname:$arch" | sed -n 's/^Depends: //p' | head -n1 | tr ',|' '\n\n')
  pkgs+=($(echo "$deps" | grep -o 'linux-headers-[^ ]*-common' | head -n1))
  pkgs+=($(echo "$deps" | grep -o 'linux-kbuild-[^ ]*' | head -n1))
  [ ${#pkgs[@]} -eq 3 ] || die "cannot find the common headers and kbuild of linux-headers-$kname"
  fetch "${pkgs[@]}"
  for d in "$tmp"/linux-headers-*.deb "$tmp"/linux-kbuild-*.deb; do
    dpkg-deb -x "$d" "$tmp/hdr" && rm -f "$d"
  done
  sed -i "s|^include /usr/src/|include $tmp/hdr/usr/src/|" "$tmp/hdr/usr/src/linux-headers-$kname/Makefile"
  # Without vmlinux, kbuild skips BTF for our modules (it would need pahole); they load fine.
  rm -f "$tmp/hdr/usr/src/linux-headers-$kname/vmlinux"
  echo "$tmp/hdr/usr/src/linux-headers-$kname"
}

# --- modules from the image, dependencies first ----------------------------------------------
declare -A seen=()
order=()
add_module() { # NAME: appends NAME's dependencies, then NAME, to order[]
  local name=$1 line path deps d
  [ -z "${seen[$name]:-}" ] || return 0
  seen[$name]=1
  line=$(grep -E "(^|/)${name//[-_]/[-_]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n1 || true)
  if [ -z "$line" ]; then
    grep -qE "(^|/)${name//[-_]/[-_]}\.ko$" "$moddir/modules.builtin" 2>/dev/null && return 0
    die "module $name is neither in modules.dep nor built in"
  fi
  path=${line%%:*}
  deps=${line#*:}
  for d in $deps; do
    d=$(basename "$d")
    add_module "${d%%.ko*}"
  done
  local ko=$out/modules/$name.ko
  case $path in
    *.ko) cp "$moddir/$path" "$ko" ;;
    *.ko.xz) xz -dc "$moddir/$path" >"$ko" ;;
    *.ko.zst) zstd -qdc "$moddir/$path" >"$ko" ;;
    *.ko.gz) gzip -dc "$moddir/$path" >"$ko" ;;
    *) die "unknown module format: $path" ;;
  esac
  order+=("$name")
}
case $arch in
  amd64) transport=(virtio_pci) ;;
  arm64) transport=(virtio_mmio virtio_pci) ;;
esac
for m in configfs evdev uinput "${transport[@]}" 9pnet_virtio 9p; do
  add_module "$m"
done
# The TPM behind QEMU's tpm-tis (amd64) / tpm-tis-device (arm64): tpm_tis and what it needs,
# where they are modules. Debian's arm64 kernel has tpm and tpm_tis_core but not tpm_tis
# (CONFIG_TCG_TIS is not set there: its boards have SPI/I2C TPMs): then tpm_tis is built out
# of tree below, like gpio-sim, against tpm_tis_core. A kernel without even that just gives
# the guest no /dev/tpmrm0.
n_before=${#order[@]}
tpm_mods=()
build_tis=0
if grep -qE "(^|/)tpm_tis\.ko(\.[a-z]+)?:" "$moddir/modules.dep" ||
  grep -qE "(^|/)tpm_tis\.ko$" "$moddir/modules.builtin"; then
  add_module tpm_tis
  tpm_mods=("${order[@]:n_before}")
  [ ${#tpm_mods[@]} -gt 0 ] || tpm_mods=("(built in)")
elif [ "$(kconf CONFIG_TCG_TIS_CORE)" = m ] || [ "$(kconf CONFIG_TCG_TIS_CORE)" = y ]; then
  build_tis=1
else
  log "warning: this kernel has no tpm_tis driver: the VM will have no TPM device"
  tpm_mods=("(none)")
fi

# --- gpio-sim (+ irq_sim) and tpm_tis, built out of tree if the kernel lacks them ------------
need_sim=$(kconf CONFIG_GPIO_SIM)
need_irq=$(kconf CONFIG_IRQ_SIM)
build_sim=0
if [ "$need_sim" = m ]; then
  add_module gpio-sim # a future Debian kernel may ship it; use that
elif [ "$need_sim" != y ]; then
  build_sim=1
fi
if [ $build_sim = 1 ] || [ $build_tis = 1 ]; then
  t0=$SECONDS
  fetch "linux-source-$series=${kver%%+*}" || true
  src_deb=$(ls "$tmp"/linux-source-"$series"_*.deb 2>/dev/null | head -n1)
  if [ -z "$src_deb" ]; then
    log "linux-source-$series=$kver not in the index; taking the candidate version"
    fetch "linux-source-$series"
    src_deb=$(ls "$tmp"/linux-source-"$series"_*.deb 2>/dev/null | head -n1)
  fi
  [ -n "$src_deb" ] || die "could not download linux-source-$series"
  top=linux-source-$series
  files=("$top/scripts/extract-vmlinux")
  [ $build_sim = 0 ] ||
    files+=("$top/drivers/gpio/gpio-sim.c" "$top/drivers/gpio/gpiolib.h" "$top/kernel/irq/irq_sim.c")
  tpmsrc=$top/drivers/char/tpm
  [ $build_tis = 0 ] || files+=("$tpmsrc/tpm_tis.c" "$tpmsrc/tpm_tis_core.h" "$tpmsrc/tpm.h")
  dpkg-deb --fsys-tarfile "$src_deb" | tar -xO "./usr/src/$top.tar.xz" | tar -xJ -C "$tmp" "${files[@]}"
  rm -f "$src_deb"
  log "linux-source files extracted in $((SECONDS - t0)) s"

  t0=$SECONDS
  kb=$tmp/kbuild
  mkdir -p "$kb"
  objs=""
  if [ $build_sim = 1 ]; then
    cp "$tmp/$top/drivers/gpio/gpio-sim.c" "$tmp/$top/drivers/gpio/gpiolib.h" "$kb/"
    objs=" gpio-sim.o"
  fi
  if [ $build_sim = 1 ] && [ "$need_irq" != y ]; then
    # irq_sim is bool-only in Kconfig, so Debian (without gpio-sim) leaves it out. Built as a
    # module it must not use irq_to_desc() (not exported) and needs a licence tag.
    cp "$tmp/$top/kernel/irq/irq_sim.c" "$kb/"
    sed -i 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)))/generic_handle_irq(\1)/' "$kb/irq_sim.c"
    grep -q 'irq_to_desc' "$kb/irq_sim.c" && die "irq_sim.c: the irq_to_desc patch no longer applies"
    echo 'MODULE_LICENSE("GPL");' >>"$kb/irq_sim.c"
    grep -q '^#include <linux/module.h>' "$kb/irq_sim.c" ||
      sed -i '0,/^#include/s//#include <linux\/module.h>\n#include/' "$kb/irq_sim.c"
    objs=" irq_sim.o$objs"
  fi
  if [ $build_tis = 1 ]; then
    # tpm_tis.c as the kernel has it (its platform driver matches "tcg,tpm-tis-mmio" in the
    # device tree), with its two private headers; tpm_tis_core exports what it calls.
    cp "$tmp/$tpmsrc/tpm_tis.c" "$tmp/$tpmsrc/tpm_tis_core.h" "$tmp/$tpmsrc/tpm.h" "$kb/"
    objs="$objs tpm_tis.o"
  fi
  echo "obj-m :=$objs" >"$kb/Kbuild"
  hdr=/usr/src/linux-headers-$kname
  [ -d "$hdr" ] || hdr=$(unpack_headers)
  case $arch in
    amd64) make -s -C "$hdr" M="$kb" modules >&2 ;;
    arm64) make -s -C "$hdr" M="$kb" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules >&2 ;;
  esac
  if [ $build_sim = 1 ]; then
    add_module configfs
    if [ "$need_irq" != y ]; then
      cp "$kb/irq_sim.ko" "$out/modules/irq_sim.ko"
      order+=(irq_sim)
    fi
    cp "$kb/gpio-sim.ko" "$out/modules/gpio-sim.ko"
    order+=(gpio-sim)
  fi
  if [ $build_tis = 1 ]; then
    n_before=${#order[@]}
    add_module tpm_tis_core
    cp "$kb/tpm_tis.ko" "$out/modules/tpm_tis.ko"
    order+=(tpm_tis)
    tpm_mods=("${order[@]:n_before}")
  fi
  last=${objs##* }
  log "modules built out of tree in $((SECONDS - t0)) s:$objs (vermagic $(modinfo -F vermagic "$kb/${last%.o}.ko" | cut -d' ' -f1))"
  if [ "$arch" = amd64 ] && [ "$(kconf CONFIG_PVH)" = y ]; then
    sh "$tmp/$top/scripts/extract-vmlinux" "$vmlinuz" >"$out/vmlinux" 2>/dev/null || rm -f "$out/vmlinux"
  fi
fi
[ -f "$out/vmlinux" ] || cp "$vmlinuz" "$out/vmlinuz"
# The guest's shell: busybox-static of the guest's architecture, unpacked, not installed.
fetch "busybox-static:$arch"
bb_deb=$(ls "$tmp"/busybox-static_*.deb 2>/dev/null | head -n1)
[ -n "$bb_deb" ] || die "could not download busybox-static:$arch"
dpkg-deb -x "$bb_deb" "$tmp/bb"
cp "$tmp/bb/bin/busybox" "$out/busybox" 2>/dev/null || cp "$tmp/bb/usr/bin/busybox" "$out/busybox"
printf '%s\n' "${order[@]}" >"$out/modules/order"
printf '%s\n' "${tpm_mods[@]}" >"$out/.tpm-modules"
echo "$abi $kver" >"$out/.ready"
log "ready: $out ($(du -sh "$out" | cut -f1)); modules: ${order[*]}"
