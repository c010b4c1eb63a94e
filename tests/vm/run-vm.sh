#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real-kernel test runner: boots a Debian kernel under QEMU (TCG, no network device) with the
# build machine's root shared read-only over 9p, loads gpio-sim/irq_sim (built here from
# Debian's linux-source against Debian's linux-headers; no Debian kernel enables them),
# configfs, uinput and evdev, then runs inside `chroot /host`:
#   1. tests/vm/smoke.sh (gpio-sim chip via configfs, seen by libgpiod's tools; /dev/uinput),
#   2. the hw test executable (CppUTest, e.g. <build>/tests/hw/hw_tests) when given.
# With swtpm installed, the guest also has a TPM 2.0 (swtpm on a unix socket behind QEMU's
# tpm-tis), so /dev/tpm0 and /dev/tpmrm0 are real kernel devices; the guest tells the tests
# with ION_VM_TPM=1.
# Exit status: the guest's (0 = every suite passed); 77 = skipped (not root and the host
# packages are missing); anything else = failure (boot, module, timeout or test).
#
# Usage: run-vm.sh [--arch amd64] [--hw-tests PATH] [--require-hw-tests 0|1] [--timeout S]
#                  [-- args for the hw test executable (default -v; no spaces inside args)]
# Environment: ION_VM_CACHE (default ~/.cache/ion-agent/vm): kernel, modules, per kernel ABI;
# ION_VM_SMP (2), ION_VM_MEM (1024 MiB), ION_VM_KEEP=1 keeps the work folder;
# ION_VM_TPM: auto (default: a TPM when swtpm is installed), 1 (required: no swtpm, or no
# /dev/tpmrm0 in the guest, fails), 0 (none).
#
# Nothing is hard-coded about the kernel: the ABI comes from the linux-image-<arch>
# metapackage in the apt index, the source and headers are that exact version, and
# gpio-sim/irq_sim are only built if the kernel's config lacks them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
arch=amd64
hw_tests=""
require_hw=0
timeout_s=900
hw_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arch=$2; shift 2 ;;
    --hw-tests) hw_tests=$2; shift 2 ;;
    --require-hw-tests) require_hw=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --) shift; hw_args=("$@"); break ;;
    *) echo "vm: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "vm: $*" >&2; }
die() { log "error: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }
t_start=$SECONDS

host_arch=$(dpkg --print-architecture)
case $arch in
  amd64)
    qemu_pkg=qemu-system-x86 qemu_bin=qemu-system-x86_64 console=ttyS0
    qemu_machine=(-accel tcg)
    ;;
  arm64)
    qemu_pkg=qemu-system-arm qemu_bin=qemu-system-aarch64 console=ttyAMA0
    qemu_machine=(-M virt -cpu cortex-a57 -accel tcg)
    ;;
  *) die "unsupported --arch $arch (amd64, arm64)" ;;
esac
# The guest runs the build machine's own binaries (chroot over 9p): for a foreign guest they
# must be that architecture's, with its libraries installed multiarch (e.g. in the Debian 13
# cross tree of .ci/lib/trees.sh). The smoke script then runs in the guest's busybox instead
# of the build machine's /bin/sh.
smoke_in=host
if [ "$arch" != "$host_arch" ]; then
  foreign=$(dpkg --print-foreign-architectures)
  echo "$foreign" | grep -qx "$arch" ||
    die "--arch $arch: dpkg architecture $arch is not enabled here (multiarch needed)"
  smoke_in=initrd
fi

if [ -n "$hw_tests" ] && [ ! -x "$hw_tests" ]; then
  [ "$require_hw" = 1 ] && die "hw test executable $hw_tests is not built"
  hw_tests=""
fi

# --- kernel ABI from the apt index ----------------------------------------------------------
kernel_abi() {
  apt-cache depends "linux-image-$arch:$arch" 2>/dev/null |
    sed -n "s/^ *Depends: linux-image-\(.*\)-$arch\(:$arch\)\?\$/\1/p" | grep -v -- -unsigned | head -n1 || true
}
abi=$(kernel_abi)
if [ -z "$abi" ] && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  abi=$(kernel_abi)
fi
[ -n "$abi" ] || die "cannot derive the kernel ABI from linux-image-$arch (apt-get update?)"
kver=$(apt-cache show "linux-image-$abi-$arch:$arch" | sed -n 's/^Version: //p' | head -n1)
series=$(echo "$abi" | cut -d. -f1,2)
log "kernel linux-image-$abi-$arch $kver (source linux-source-$series)"

# --- host packages ---------------------------------------------------------------------------
need=("$qemu_pkg" cpio xz-utils kmod)
# Native kernels build modules with the installed headers; foreign ones unpack theirs.
[ "$arch" = "$host_arch" ] && need+=("linux-headers-$abi-$arch")
[ "$arch" = arm64 ] && need+=(gcc-aarch64-linux-gnu)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root once to install: ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# --- TPM: swtpm behind QEMU's TIS interface ------------------------------------------------
# amd64: tpm-tis on the pc machine; Debian builds tpm, tpm_tis_core and tpm_tis in. The TPM's
# event log makes QEMU's firmware tables outgrow the room QEMU leaves them below the initrd,
# which then overwrites them (corrupt ACPI tables, no TPM found, no ACPI power-off): so the
# guest boots with acpi=off and probes the TIS at its fixed address (tpm_tis.force=1,
# polled), and the runner stops QEMU once the guest has halted. arm64 (-M virt): QEMU puts
# tpm-tis-device in the device tree (compatible "tcg,tpm-tis-mmio"), which Debian's tpm_tis
# module binds (prepare-kernel.sh adds it and its dependencies to the guest's modules).
tpm=0
case ${ION_VM_TPM:-auto} in
  0) ;;
  1) command -v swtpm >/dev/null || die "ION_VM_TPM=1 but swtpm is not installed (Debian: swtpm)"
     tpm=1 ;;
  auto) command -v swtpm >/dev/null && tpm=1 ;;
  *) die "ION_VM_TPM=${ION_VM_TPM}: 0, 1 or auto" ;;
esac
tpm_append=""
case $arch in
  amd64) tpm_device="tpm-tis" tpm_append=" acpi=off tpm_tis.force=1 tpm_tis.interrupts=0" ;;
  arm64) tpm_device="tpm-tis-device" ;;
esac
[ "$tpm" = 1 ] || tpm_append=""

cache=${ION_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ion-agent/vm}
kdir=$cache/$abi-$arch
# .tpm-modules: the TPM driver modules ("(built in)", "(none)"), from a cache made since the
# VM has a TPM and tpm_tis is built where the kernel lacks it (an empty one is older).
if [ ! -f "$kdir/.ready" ] || [ ! -x "$kdir/busybox" ] || { [ "$tpm" = 1 ] && ! grep -qs . "$kdir/.tpm-modules"; }; then
  t0=$SECONDS
  "$here/prepare-kernel.sh" "$arch" "$abi" "$kver" "$series" "$kdir"
  log "prepared kernel and modules in $((SECONDS - t0)) s"
fi

# A foreign guest cannot run the build machine's python3/openssl, which the ION simulator of
# the end-to-end test needs: give it its own architecture's (tests/vm/prepare-guest-python.sh).
guest_tools=""
if [ "$smoke_in" = initrd ] && [ -n "$hw_tests" ]; then
  rc=0
  guest_tools=$("$here/prepare-guest-python.sh" "$arch" "$cache") || rc=$?
  [ $rc -eq 77 ] && skip "the guest's python3 needs root once to install"
  [ $rc -eq 0 ] || die "cannot prepare python3 for the $arch guest"
fi

# --- initramfs (per run: it carries the command) ---------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/ion-vm.XXXXXX")
qpid="" spid=""
cleanup() {
  [ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
  [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
  [ "${ION_VM_KEEP:-0}" = 1 ] && log "work folder kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

t0=$SECONDS
root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,host,lib/ion-modules}
cp "$kdir/busybox" "$root/bin/busybox"
cp "$here/smoke.sh" "$root/smoke.sh"
cp "$kdir"/modules/*.ko "$kdir/modules/order" "$root/lib/ion-modules/"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
[ ${#hw_args[@]} -gt 0 ] || hw_args=(-v)
{
  echo "SMOKE=$(printf '%q' "$here/smoke.sh")"
  echo "SMOKE_IN=$smoke_in"
  echo "GUEST_TOOLS=$(printf '%q' "$guest_tools")"
  echo "HW_TESTS=$(printf '%q' "${hw_tests:+$(realpath "$hw_tests")}")"
  # Word-split in the guest: arguments without spaces only.
  echo "HW_ARGS=$(printf '%q' "${hw_args[*]}")"
  echo "TPM=$tpm"
} >"$root/ion-vm.conf"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
log "initramfs $(du -k "$work/initrd.gz" | cut -f1) KiB in $((SECONDS - t0)) s"

# --- boot -----------------------------------------------------------------------------------
kernel=$kdir/vmlinux
[ -f "$kernel" ] || kernel=$kdir/vmlinuz
qemu=("$qemu_bin" "${qemu_machine[@]}" -m "${ION_VM_MEM:-1024}" -smp "${ION_VM_SMP:-2}" -display none
  -serial stdio -monitor none -nic none -no-reboot
  -kernel "$kernel" -initrd "$work/initrd.gz"
  -append "console=$console loglevel=4 panic=-1 ion.start=$(date +%s)${tpm_append}"
  -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot")
if [ "$tpm" = 1 ]; then
  # A fresh TPM per boot (new seeds); startup-clear: swtpm runs TPM2_Startup itself when QEMU
  # initialises it, as firmware would.
  t0=$SECONDS
  mkdir -p "$work/tpm"
  swtpm socket --tpm2 --tpmstate "dir=$work/tpm" --ctrl "type=unixio,path=$work/swtpm.sock" \
    --flags startup-clear --log "file=$work/swtpm.log" </dev/null &
  spid=$!
  for _ in $(seq 100); do
    [ -S "$work/swtpm.sock" ] && break
    kill -0 "$spid" 2>/dev/null || die "swtpm exited at start: $(cat "$work/swtpm.log" 2>/dev/null)"
    sleep 0.05
  done
  [ -S "$work/swtpm.sock" ] || die "swtpm made no control socket within 5 s"
  qemu+=(-chardev "socket,id=chrtpm,path=$work/swtpm.sock" -tpmdev "emulator,id=tpm0,chardev=chrtpm"
    -device "$tpm_device,tpmdev=tpm0")
  log "TPM 2.0: swtpm $(swtpm --version 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p') ($tpm_device) up in $((SECONDS - t0)) s"
fi
log "booting $(basename "$kernel") ${hw_tests:+with $hw_tests}"
t_boot=$SECONDS
console_log=$work/console.log
: >"$console_log"
# QEMU runs in the background so the timeout can kill it by PID; its console is copied to
# our stdout (CTest shows it) and to a file the result is read from.
"${qemu[@]}" </dev/null >"$console_log" 2>&1 &
qpid=$!
tail -n +1 -f --pid="$qpid" "$console_log" &
tpid=$!
deadline=$((SECONDS + timeout_s))
while kill -0 "$qpid" 2>/dev/null; do
  if [ $SECONDS -ge $deadline ]; then
    log "timeout after ${timeout_s} s: killing QEMU"
    kill -9 "$qpid" 2>/dev/null
    break
  fi
  # Without ACPI (amd64 with a TPM) power-off only halts the guest: it is done all the same.
  if grep -aq 'reboot: System halted' "$console_log"; then
    kill "$qpid" 2>/dev/null
    break
  fi
  sleep 0.5
done
wait "$qpid" 2>/dev/null || true
qpid=""
wait "$tpid" 2>/dev/null || true

boot_s=$(sed -n 's/.*ION-VM: init at \([0-9.]*\).*/\1/p' "$console_log" | head -n1)
rc=$(sed -n 's/.*ION-VM-RESULT rc=\([0-9]*\).*/\1/p' "$console_log" | tail -n1)
log "guest: kernel-to-init ${boot_s:-?} s (guest clock), VM wall time $((SECONDS - t_boot)) s, total $((SECONDS - t_start)) s"
[ -n "$rc" ] || die "the guest reported no result (boot failure, panic or timeout)"
log "guest result rc=$rc"
exit "$rc"
