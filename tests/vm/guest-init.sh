#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the test VM's initramfs (busybox). Loads the modules listed in
# /lib/ion-modules/order, mounts proc, sysfs, devtmpfs and configfs, mounts the build
# machine's root (9p, read-only) at /host with /dev, /proc, /sys bound in and tmpfs on /tmp,
# /run and /var/tmp, brings up loopback, then runs the smoke script and the hw test executable
# in `chroot /host`. With a TPM attached (TPM=1 in ion-vm.conf) it reports whether the kernel
# made /dev/tpmrm0 and tells the tests: ION_VM_TPM=1 (present), ION_VM_TPM=missing (attached,
# but no device: tests/hw/vm_environment_test.cpp fails), unset without a TPM.
# Prints "ION-VM-RESULT rc=N" (0 = all passed) for the runner and powers off. Any failure
# before the tests still prints a result, so the runner never waits for a timeout.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "ION-VM: init at $(cut -d' ' -f1 /proc/uptime) s"

finish() {
  echo "ION-VM-RESULT rc=$1"
  sync
  poweroff -f
  sleep 5
}

while read -r m; do
  insmod "/lib/ion-modules/$m.ko" || { echo "ION-VM: insmod $m failed"; finish 90; }
done </lib/ion-modules/order
mount -t configfs configfs /sys/kernel/config || finish 91
[ -d /sys/kernel/config/gpio-sim ] || { echo "ION-VM: gpio-sim missing in configfs"; finish 92; }
[ -c /dev/uinput ] || { echo "ION-VM: /dev/uinput missing"; finish 93; }
# Loopback only (the VM has no network device): the end-to-end test runs the ION simulator
# and the daemon on 127.0.0.1.
ip link set lo up || ifconfig lo 127.0.0.1 up || { echo "ION-VM: cannot bring up lo"; finish 96; }

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host ||
  finish 94
for d in dev proc sys; do
  mount --rbind "/$d" "/host/$d" || finish 95
done
. /ion-vm.conf
vm_tpm=""
if [ "${TPM:-0}" = 1 ]; then
  if [ -c /dev/tpmrm0 ]; then
    vm_tpm=1
    echo "ION-VM: TPM: /dev/tpm0 and /dev/tpmrm0 ($(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null || echo ?).0, $(cat /sys/class/tpm/tpm0/device/description 2>/dev/null || basename "$(readlink /sys/class/tpm/tpm0/device/driver)"))"
  else
    vm_tpm=missing
    echo "ION-VM: TPM attached but no /dev/tpmrm0 (driver not bound?)"
  fi
fi
# Writable scratch space on the read-only share; leave /tmp alone if the tests live there
# (TMPDIR points at /var/tmp, which is always a tmpfs here).
case "$HW_TESTS" in
  /tmp/*) ;;
  *) mount -t tmpfs tmpfs /host/tmp ;;
esac
mount -t tmpfs tmpfs /host/run
mount -t tmpfs tmpfs /host/var/tmp
echo "ION-VM: ready at $(cut -d' ' -f1 /proc/uptime) s"

# busybox env + chroot: no program of the shared root is needed to get there, so this also
# works when only the test executable (not /bin/sh) matches the guest's architecture.
# GUEST_TOOLS (foreign guests only): the guest architecture's python3 and openssl for the ION
# simulator, first on PATH.
in_host() {
  env -i PATH=${GUEST_TOOLS:+$GUEST_TOOLS/bin:}/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    ${GUEST_TOOLS:+ION_SIM_PYTHON=$GUEST_TOOLS/bin/python3} HOME=/var/tmp TMPDIR=/var/tmp \
    LANG=C.UTF-8 ION_IN_VM=1 ${vm_tpm:+ION_VM_TPM=$vm_tpm} chroot /host "$@"
}

rc=0
echo "ION-VM: smoke: $SMOKE (in $SMOKE_IN)"
if [ "$SMOKE_IN" = host ]; then
  in_host /bin/sh "$SMOKE" || rc=$?
else
  sh /smoke.sh || rc=$?
fi
echo "ION-VM: smoke rc=$rc at $(cut -d' ' -f1 /proc/uptime) s"
if [ -n "$HW_TESTS" ]; then
  echo "ION-VM: hw tests: $HW_TESTS $HW_ARGS"
  t0=$(cut -d' ' -f1 /proc/uptime)
  # shellcheck disable=SC2086
  (cd /host/tmp && in_host "$HW_TESTS" $HW_ARGS)
  hrc=$?
  echo "ION-VM: hw tests rc=$hrc, started at $t0 s, ended at $(cut -d' ' -f1 /proc/uptime) s"
  [ $hrc -eq 0 ] || rc=$hrc
fi
finish $rc
