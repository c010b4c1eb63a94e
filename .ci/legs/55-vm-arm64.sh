#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: the real-kernel suite on Debian's arm64 kernel (qemu-system-aarch64 -M virt, TCG),
# running the aarch64 cross build's hw_tests from the Debian 13 cross tree (its arm64
# libraries are installed multiarch, so the guest can chroot into the tree over 9p).
# Reuses leg 20's build folder; the runner installs qemu-system-arm into the tree. The guest
# has a TPM 2.0 (swtpm behind QEMU's tpm-tis-device, ION_VM_TPM=1: required), so the TPM
# tests run against the arm64 kernel's /dev/tpmrm0; the leg lists them and fails without one.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/trees.sh
TREE=build-ci/trees/deb13-cross
BUILD=$(ci_build_dir aarch64)
t0=$SECONDS
ci_host_tools
ci_tree_cross "$TREE"
echo "::: vm-arm64: setup $((SECONDS - t0)) s"
t1=$SECONDS
ci_chroot "$TREE" bash -euo pipefail -c '
  cd /src
  tc=-DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
  [ ! -f "$1/CMakeCache.txt" ] || tc=  # set once; CMake warns if it is given again
  cmake -S . -B "$1" $tc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DION_AGENT_BUILD_TESTS=ON \
    -DION_AGENT_WERROR=ON -DION_AGENT_TPM2=on >/dev/null  # on: fails loudly without libtss2-dev:arm64
  cmake --build "$1" -j"$(nproc)" --target hw_tests  # and ion-agent, which it runs
  rc=0
  ION_VM_TPM=1 ctest --test-dir "$1" --output-on-failure -L hw || rc=$?
  # The whole console is in CTest'"'"'s log even when the test passed: what the TPM did.
  log=$1/Testing/Temporary/LastTest.log
  grep -a -e "ION-VM: TPM" -e "TEST(TpmDevice" -e "TEST(VmEnvironment, AttachedTpm" \
    -e "TPM device test: " -e "skipped: no /dev/tpmrm0" "$log" | sed "s/^/vm-arm64: /" || true
  [ $rc -eq 0 ] || exit $rc
  grep -aq "ION-VM: TPM: /dev/tpm0 and /dev/tpmrm0" "$log" ||
    { echo "vm-arm64: the guest had no /dev/tpmrm0" >&2; exit 1; }
  grep -aq "TPM device test: [0-9]* ms" "$log" ||
    { echo "vm-arm64: the TPM device test did not run" >&2; exit 1; }
' vm-arm64 "$BUILD"
echo "::: vm-arm64: build + ctest -L hw $((SECONDS - t1)) s"
