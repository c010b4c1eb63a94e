#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the test VM (chroot into the build machine's root): proves the runner gives the
# hw tests what they need. Creates a gpio-sim chip through configfs, finds it with libgpiod's
# tools (v1 or v2 syntax), reads a line pulled up and then down through the simulator's
# sysfs, checks /dev/uinput and evdev, and removes the chip again. Exit 0 = all good.
set -eu
fail() { echo "smoke: FAIL: $*"; exit 1; }
cfg=/sys/kernel/config/gpio-sim/ion-smoke
mkdir "$cfg" "$cfg/bank0"
trap 'echo 0 > "$cfg/live" 2>/dev/null; rmdir "$cfg/bank0" "$cfg" 2>/dev/null' EXIT
echo 8 >"$cfg/bank0/num_lines"
echo ion-smoke-bank0 >"$cfg/bank0/label"
echo 1 >"$cfg/live"
chip=$(cat "$cfg/bank0/chip_name")
dev=$(cat "$cfg/dev_name")
sim=/sys/devices/platform/$dev/$chip
echo "smoke: gpio-sim $dev $chip"

[ -c "/dev/$chip" ] || fail "/dev/$chip missing"
# The simulator's own view: an input line follows the pull set through sysfs.
echo pull-up >"$sim/sim_gpio3/pull"
[ "$(cat "$sim/sim_gpio3/value")" = 1 ] || fail "sim_gpio3 pulled up does not read 1"
if command -v gpiodetect >/dev/null 2>&1; then
  gpiodetect | grep "^$chip .*ion-smoke-bank0.*8 lines" || fail "gpiodetect does not list $chip"
  case $(gpiodetect --version | head -n1) in
    *v1.*) get() { gpioget "$chip" "$1"; } ;;
    *) get() { gpioget --numeric -c "$chip" "$1"; } ;;
  esac
  [ "$(get 3)" = 1 ] || fail "line 3 pulled up does not read 1"
  echo pull-down >"$sim/sim_gpio3/pull"
  [ "$(get 3)" = 0 ] || fail "line 3 pulled down does not read 0"
  echo "smoke: gpioget follows the simulator's pull: ok"
else
  echo "smoke: libgpiod tools not available here (foreign guest): sysfs checks only"
fi

[ -c /dev/uinput ] || fail "/dev/uinput missing"
[ -d /sys/class/input ] || fail "no input class (evdev)"
[ -d /sys/module/evdev ] || fail "evdev not loaded"
[ -r /proc/self/status ] || fail "/proc is not mounted"
echo "smoke: uinput and evdev present: ok"
