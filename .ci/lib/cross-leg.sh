#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared body of the cross legs: cross-leg.sh NAME TOOLCHAIN_FILE [CTEST_ARGS...]
# Makes (or reuses) the Debian 13 cross tree, configures with the toolchain file, tests on,
# every warning an error, builds, checks the binary's architecture and runs the tests that
# make sense under qemu-user (label unit: no kernel devices, no network namespaces).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/trees.sh
name=$1 toolchain=$2
shift 2
ctest_args=("$@")
[ ${#ctest_args[@]} -gt 0 ] || ctest_args=(-L unit)

TREE=build-ci/trees/deb13-cross
BUILD=$(ci_build_dir "$name")
t0=$SECONDS
ci_host_tools
ci_tree_cross "$TREE"
echo "::: $name: setup $((SECONDS - t0)) s, tree $(ci_tree_du "$TREE")"

t1=$SECONDS
ci_chroot "$TREE" bash -euo pipefail -c '
  build=$1 toolchain=$2
  shift 2
  cd /src
  cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DION_AGENT_BUILD_TESTS=ON -DION_AGENT_WERROR=ON >/dev/null
  sed -n -e "s/^set(CMAKE_CXX_COMPILER \"\(.*\)\")/compiler: \1/p" \
    -e "s/^set(CMAKE_CXX_COMPILER_VERSION \"\(.*\)\")/version: \1/p" "$build"/CMakeFiles/*/CMakeCXXCompiler.cmake
  grep -E "^ION_PC_(gpiod|cpputest)_VERSION" "$build/CMakeCache.txt" || true
  # -L unit (the default) needs only what `unit-tests` builds; any other selection, everything.
  targets=()
  [ "$*" != "-L unit" ] || targets=(--target unit-tests)
  cmake --build "$build" -j"$(nproc)" "${targets[@]}"
  readelf -h "$build/firmware/ion-agent" | grep -E "Class|Machine|Flags"
  echo "emulator: $(grep -m1 -o "add_test([^ ]* \"[^\"]*\"" "$build/tests/CTestTestfile.cmake" | cut -d" " -f2)"
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
' "cross-$name" "$BUILD" "$toolchain" "${ctest_args[@]}"
echo "::: $name: build+test $((SECONDS - t1)) s"
