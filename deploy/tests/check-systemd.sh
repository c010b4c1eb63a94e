#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the installed-form systemd files with systemd's own tools:
#   - `systemd-analyze verify` on the configured unit, with ExecStart= pointed at the built
#     binary (verify insists the command exists) and MANPATH at our man page, so
#     Documentation=man:ion-agent(8) is checked too. Any diagnostic fails the check: verify
#     exits 0 on unknown keys and bad values, so its output is what counts.
#   - `systemd-analyze security --offline` with a threshold (exposure <= MAX, default 2.0).
#   - sysusers.d + tmpfiles.d applied to a scratch root: user, groups, directory modes.
# Usage: check-systemd.sh UNIT BINARY MANPAGE SYSUSERS TMPFILES [MAX_EXPOSURE]
set -euo pipefail
unit=$1 binary=$(realpath "$2") manpage=$3 max=${6:-2.0}
sysusers=$(realpath "$4") tmpfiles=$(realpath "$5")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-systemd: $*" >&2; exit 1; }

[ -x "$binary" ] || fail "binary '$binary' is not executable"
mkdir -p "$tmp/unit" "$tmp/man/man8"
cp "$manpage" "$tmp/man/man8/ion-agent.8"
grep -q '^ExecStart=/' "$unit" || fail "$unit: no absolute ExecStart="
sed -E "s|^ExecStart=[^ ]+|ExecStart=$binary|" "$unit" >"$tmp/unit/ion-agent.service"

out=$(MANPATH="$tmp/man" SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$tmp/unit/ion-agent.service" 2>&1) ||
  fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify reported: $out"
echo "check-systemd: verify: clean"

# --threshold takes the exposure times ten (the scale the tool prints is 0.0-10.0).
threshold=$(awk -v m="$max" 'BEGIN { printf "%d", m * 10 + 0.5 }')
set +e
sec=$(SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes --no-pager \
  --threshold="$threshold" "$tmp/unit/ion-agent.service" 2>&1)
rc=$?
set -e
score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for ion-agent.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure level in: $sec"
echo "check-systemd: security: exposure $score (limit $max, lower is better)"
[ "$rc" -eq 0 ] || fail "exposure $score is above $max"

mkdir -p "$tmp/root/etc"
systemd-sysusers --root="$tmp/root" "$sysusers" >/dev/null 2>&1 || fail "systemd-sysusers rejected $sysusers"
systemd-tmpfiles --root="$tmp/root" --create "$tmpfiles" || fail "systemd-tmpfiles rejected $tmpfiles"
pw=$(grep '^ion-agent:' "$tmp/root/etc/passwd") || fail "sysusers created no ion-agent user"
uid=$(echo "$pw" | cut -d: -f3)
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "ion-agent uid $uid is not a system uid"
case "$(echo "$pw" | cut -d: -f7)" in */nologin) ;; *) fail "ion-agent has a login shell: $pw" ;; esac
for g in input dialout gpio; do
  grep -Eq "^$g:[^:]*:[0-9]+:(.*,)?ion-agent(,|$)" "$tmp/root/etc/group" || fail "ion-agent is not in group $g"
done
st=$(stat -c '%a %u' "$tmp/root/var/lib/ion-agent") || fail "no /var/lib/ion-agent"
[ "$st" = "700 $uid" ] || fail "/var/lib/ion-agent is '$st', want '700 $uid'"
[ "$(stat -c '%a %u' "$tmp/root/etc/ion-agent")" = "755 0" ] || fail "/etc/ion-agent is not 755 root"
echo "check-systemd: sysusers+tmpfiles: user ion-agent uid $uid, groups input dialout gpio, dirs ok"
