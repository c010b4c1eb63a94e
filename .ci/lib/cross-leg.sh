#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared body of the cross legs: cross-leg.sh NAME TOOLCHAIN_FILE [CTEST_ARGS...]
# Makes (or reuses) the Debian 13 cross tree, configures with the toolchain file, tests on,
# every warning an error, both key providers on (a missing -dev package fails the configure),
# builds, checks the binary's architecture and runs the tests that make sense under qemu-user:
# label unit (no kernel devices, no network namespaces) and label qemu-user (the key
# providers against the build machine's swtpm and the target's SoftHSM2 module; they start
# no target program).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/trees.sh
name=$1 toolchain=$2
shift 2
multiarch=$(sed -n 's/^set(ION_TC_MULTIARCH \(.*\))$/\1/p' "$toolchain")
case $multiarch in
  aarch64-linux-gnu) debarch=arm64 ;;
  arm-linux-gnueabihf) debarch=armhf ;;
  *) echo "cross-leg: no Debian architecture for $toolchain" >&2; exit 1 ;;
esac
ctest_args=("$@")
[ ${#ctest_args[@]} -gt 0 ] || ctest_args=(-L "unit|qemu-user")

TREE=build-ci/trees/deb13-cross
BUILD=$(ci_build_dir "$name")
t0=$SECONDS
ci_host_tools
ci_tree_cross "$TREE"
echo "::: $name: setup $((SECONDS - t0)) s, tree $(ci_tree_du "$TREE")"

t1=$SECONDS
ci_chroot "$TREE" bash -euo pipefail -c '
  build=$1 toolchain=$2 softhsm=$3
  shift 3
  cd /src
  cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DION_AGENT_BUILD_TESTS=ON -DION_AGENT_WERROR=ON -DION_AGENT_TPM2=on -DION_AGENT_PKCS11=on \
    -DION_SOFTHSM2_MODULE="$softhsm" >/dev/null
  # The key provider tests must be there: swtpm/softhsm2-util missing, or the module, would
  # otherwise drop them without a word.
  for g in Tpm2Vault Pkcs11Vault; do
    ctest --test-dir "$build" -N -L qemu-user -R "^$g\\." | grep -q "Total Tests: [1-9]" ||
      { echo "cross: no $g tests registered (swtpm, softhsm2-util, $softhsm?)" >&2; exit 1; }
  done
  sed -n -e "s/^set(CMAKE_CXX_COMPILER \"\(.*\)\")/compiler: \1/p" \
    -e "s/^set(CMAKE_CXX_COMPILER_VERSION \"\(.*\)\")/version: \1/p" "$build"/CMakeFiles/*/CMakeCXXCompiler.cmake
  grep -E "^ION_PC_(gpiod|cpputest)_VERSION" "$build/CMakeCache.txt" || true
  # The default selection needs only what `unit-tests` and the key provider tests build; any
  # other selection, everything.
  targets=()
  [ "$*" != "-L unit|qemu-user" ] || targets=(--target unit-tests key_provider_tests)
  cmake --build "$build" -j"$(nproc)" "${targets[@]}"
  readelf -h "$build/firmware/ion-agent" | grep -E "Class|Machine|Flags"
  echo "emulator: $(grep -m1 -o "add_test([^ ]* \"[^\"]*\"" "$build/tests/CTestTestfile.cmake" | cut -d" " -f2)"
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
' "cross-$name" "$BUILD" "$toolchain" "$(ci_softhsm2_module "$debarch" "$multiarch")" "${ctest_args[@]}"
echo "::: $name: build+test $((SECONDS - t1)) s"
