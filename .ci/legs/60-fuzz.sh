#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CI leg: builds the libFuzzer targets with clang-14 (ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 15, which keeps the CI run in its budget; FUZZ_SECONDS=600 for a deep run)
# from its seed corpus. A crash fails the leg; its input is printed
# so it can be added to tests/fuzz/regressions/<name>/. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/install-deps.sh clang-14 libclang-rt-14-dev
SECS=${FUZZ_SECONDS:-15}
B=$PWD/build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B $B -DCMAKE_BUILD_TYPE=Debug -DION_AGENT_FUZZ=ON \
  -DION_AGENT_WERROR=ON -DION_AGENT_BUILD_TESTS=ON >/dev/null
targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
cmake --build $B -j"$(nproc)" --target $targets >/dev/null
# One target per core at a time: each libFuzzer process is single-threaded, so on 2 cores two
# targets run their FUZZ_SECONDS side by side and the leg waits about half as long.
fuzz_one() {
  local t=$1 short=${1#fuzz_} work log runs
  work=$(mktemp -d)
  cp -r tests/fuzz/corpus/"$short"/. "$work"/
  log=$B/$t.log
  if ! (cd "$B" && ./tests/fuzz/"$t" -max_total_time="$SECS" -print_final_stats=1 \
         -artifact_prefix="$B/$t-" "$work" >"$log" 2>&1); then
    tail -40 "$log"
    echo "fuzz: $t found a crash; input saved as $B/$t-crash-*" >&2
    rm -rf "$work"
    return 255  # xargs stops starting new targets
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "$short=${runs}execs/${SECS}s" >"$B/$t.summary"
  rm -rf "$work"
}
export -f fuzz_one
export B SECS
rm -f "$B"/fuzz_*.summary
echo $targets | tr ' ' '\n' | xargs -P "$(nproc)" -I{} bash -c 'fuzz_one "$1"' _ {}
summary=()
for t in $targets; do
  summary+=("$(cat "$B/$t.summary")")
done
echo "fuzz: ${summary[*]}"
