#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one state-directory setting reaches every place that names it: configures a scratch
# build (configure only, nothing compiled) with -DION_AGENT_STATE_DIR=DIR and checks the
# unit (--state-dir, StateDirectory=), sysusers (home), tmpfiles, the maintainer scripts and
# the agent's compiled-in default (kDefaultStateDir via ION_AGENT_DEFAULT_STATE_DIR on every
# compile line that sees vault.hpp). Then a directory outside /var/lib must be refused.
# The Yocto and Buildroot user definitions are held to the same variable by lint_metadata.py.
# Usage: check-state-dir.sh REPO_ROOT [DIR]   (DIR default /var/lib/ion-station)
set -euo pipefail
root=$(cd "$1" && pwd)
dir=${2:-/var/lib/ion-station}
rel=${dir#/var/lib/}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-state-dir: $*" >&2; exit 1; }

cmake -S "$root" -B "$tmp/b" -DION_AGENT_STATE_DIR="$dir" -DION_AGENT_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "configure failed"; }
d=$tmp/b/deploy
grep -q -- "--state-dir $dir\b" "$d/ion-agent.service" || fail "unit: ExecStart has no --state-dir $dir"
grep -qx "StateDirectory=$rel" "$d/ion-agent.service" || fail "unit: StateDirectory= is not $rel"
grep -Eq "^u ion-agent .* $dir /" "$d/ion-agent.sysusers" || fail "sysusers: home is not $dir"
grep -Eq "^d $dir 0700 ion-agent" "$d/ion-agent.tmpfiles" || fail "tmpfiles: no 'd $dir 0700 ion-agent'"
for s in postinst postrm; do
  grep -qx "STATE_DIR=\"$dir\"" "$d/debian/$s" || fail "$s: STATE_DIR is not $dir"
done
left=$(grep -l '/var/lib/ion-agent' "$d/ion-agent.service" "$d/ion-agent.sysusers" "$d/ion-agent.tmpfiles" \
  "$d"/debian/post* "$d"/debian/prerm || true)
[ -z "$left" ] || fail "still naming /var/lib/ion-agent: $left"
python3_line=$(/usr/bin/python3 - "$tmp/b/compile_commands.json" "$root" "$dir" <<'PY'
import json, sys
db, root, want = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
need = ["agent/vault/vault.cpp", "firmware/cli/cmd_run.cpp", "firmware/cli/cmd_provision.cpp",
        "firmware/cli/cmd_status.cpp", "firmware/cli/cmd_queue.cpp", "firmware/cli/cmd_check.cpp"]
seen = {e["file"][len(root) + 1:]: e["command"] for e in db if e["file"].startswith(root + "/")}
bad = [f for f in need if f not in seen or f'-DION_AGENT_DEFAULT_STATE_DIR=\\"{want}\\"' not in seen[f]]
print(sum(f'-DION_AGENT_DEFAULT_STATE_DIR=\\"{want}\\"' in c for c in seen.values()), " ".join(bad))
PY
)
n=${python3_line%% *}
[ "$python3_line" = "$n " ] || [ "$python3_line" = "$n" ] || fail "compiled without ION_AGENT_DEFAULT_STATE_DIR=$dir: $python3_line"
echo "check-state-dir: $dir reaches the unit, sysusers, tmpfiles, maintainer scripts and $n compile lines"

if cmake -S "$root" -B "$tmp/bad" -DION_AGENT_STATE_DIR=/srv/ion -DION_AGENT_BUILD_TESTS=OFF >"$tmp/log" 2>&1; then
  fail "-DION_AGENT_STATE_DIR=/srv/ion was accepted (StateDirectory= needs /var/lib/...)"
fi
grep -q "must be a directory under /var/lib/" "$tmp/log" || fail "refusal without a clear message: $(tail -3 "$tmp/log")"
echo "check-state-dir: /srv/ion refused with a clear message"
