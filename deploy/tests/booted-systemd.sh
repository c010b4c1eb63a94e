#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shipped ion-agent.service under a real systemd: boots ROOT (a Debian root with systemd
# and the .deb installed, e.g. the packaging leg's amd64 root) with `systemd-nspawn --boot`,
# sharing the host's network so the ION simulator started here on 127.0.0.1 is reachable, and
# checks, with systemctl/journalctl run inside the container (nsenter into its PID 1):
#   0. with its profile but no API key yet, the enabled unit starts at boot and reaches READY=1:
#      StatusText= says the credentials are unusable, a scan fed to the simulated station is
#      accepted and kept (pending 1), no restarts;
#   1. `ion-agent provision` (API key on stdin from a 0600 file) while it runs: the same daemon
#      (same MainPID) picks the key up and delivers the kept scan (the sandbox lets it reach
#      ION); then `systemctl stop` + `systemctl start` returns on READY=1 with StatusText= the
#      daemon's STATUS= (credentials usable);
#   2. `systemctl restart` of the idle daemon takes < 1 s; `systemctl stop` (SIGTERM) ends it
#      with exit status 0 (ion-agent(8)) well within TimeoutStopSec=, no SIGKILL;
#   3. watchdog: the unit sets WatchdogSec=; with it shortened for time (runtime drop-in) the
#      idle daemon's pings keep it alive, and a SIGSTOPped daemon is killed on the watchdog
#      timeout and restarted (new MainPID, NRestarts + 1, the journal names the timeout);
#   4. crash loop: the unit says Restart=always and StartLimitIntervalSec=0; with RestartSec=
#      shortened so the loop outruns systemd's default start limit (5 starts in 10 s), the main
#      PID killed (SEGV, KILL, ABRT) 8 times in a row comes back every time;
#   5. the device key as an encrypted credential, as DEPLOYING.md says (systemd-creds encrypt
#      --with-key=host, LoadCredentialEncrypted=, device.key shredded): the daemon takes it from
#      $CREDENTIALS_DIRECTORY and delivers; a damaged credential keeps the unit from starting.
# The only change to the shipped unit is a drop-in running the daemon on the simulated
# station (`--sim FIFO`: no scanner or GPIO in a container) with the metrics file in
# /run/ion-agent; steps 3 and 4 add a runtime drop-in (/run) and remove it again.
# Usage: deploy/tests/booted-systemd.sh ROOT [SOURCE_TREE]   (as root; ROOT is modified:
#   profile, CA, provisioned key, drop-in, journal. The leg throws the root away afterwards.)
set -euo pipefail
ROOT=$(realpath "${1:?usage: booted-systemd.sh ROOT [SOURCE_TREE]}")
SRC=$(realpath "${2:-$(dirname "${BASH_SOURCE[0]}")/../..}")
UNIT=ion-agent.service
WD_FAST=3   # WatchdogSec= for step 3, seconds
CRASHES=8   # step 4: more than systemd's default StartLimitBurst (5) per 10 s
T=$(mktemp -d /tmp/ion-booted.XXXXXX)
NSPAWN_PID="" LEADER="" SIM_PID="" T0=$SECONDS

fail() {
  echo "booted-systemd: FAIL: $*" >&2
  if [ -n "$LEADER" ] && [ -e "/proc/$LEADER" ]; then
    echo "--- systemctl status $UNIT" >&2
    in_ct systemctl status --no-pager -n 0 "$UNIT" >&2 || true
    echo "--- journal of $UNIT (last 30 lines)" >&2
    in_ct journalctl -u "$UNIT" --no-pager -n 30 -o short-precise >&2 || true
  fi
  exit 1
}
say() { echo "booted-systemd: $*"; }

cleanup() {
  local i
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID" 2>/dev/null || true # nspawn --boot: an orderly shutdown
    for i in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NSPAWN_PID" 2>/dev/null || true
    wait "$NSPAWN_PID" 2>/dev/null || true
  fi
  if [ -n "$SIM_PID" ]; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT

for c in systemd-nspawn nsenter pgrep /usr/bin/python3 openssl; do
  command -v "$c" >/dev/null || fail "missing tool $c (systemd-nspawn: package systemd-container)"
done
[ "$(id -u)" = 0 ] || fail "needs root (systemd-nspawn, nsenter)"
[ -x "$ROOT/usr/bin/ion-agent" ] || fail "$ROOT: no /usr/bin/ion-agent (install the .deb first)"
[ -x "$ROOT/usr/lib/systemd/systemd" ] || fail "$ROOT: no systemd to boot"
[ -f "$ROOT/usr/lib/systemd/system/$UNIT" ] || fail "$ROOT: no $UNIT"
[ ! -e "$ROOT/var/lib/ion-agent/credentials.sealed" ] || fail "$ROOT: already provisioned"

# in_ct CMD...: runs CMD in the container (all namespaces of its PID 1), clean environment.
CT_ENV=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_COLORS=0 SYSTEMD_PAGER=)
# -r -w: the container's root and working directory too (needed when this script itself runs
# in a chroot: the caller's root means nothing in the container's mount namespace).
in_ct() { nsenter -t "$LEADER" -a -r -w -- "${CT_ENV[@]}" "$@"; }
prop() { in_ct systemctl show -P "$1" "$UNIT"; }
now_ms() { date +%s%3N; }
# wait_for SECONDS CMD...: until CMD succeeds (every 50 ms); false after SECONDS.
wait_for() {
  local end=$(($(now_ms) + $1 * 1000))
  shift
  until "$@"; do
    [ "$(now_ms)" -lt "$end" ] || return 1
    sleep 0.05
  done
}
# back_from PID: the unit is active again with another main process (fails on `failed`).
back_from() {
  local st pid
  st=$(prop ActiveState) pid=$(prop MainPID)
  [ "$st" != failed ] || fail "$UNIT gave up: ActiveState=failed Result=$(prop Result)" \
    "(StartLimitIntervalUSec=$(prop StartLimitIntervalUSec) StartLimitBurst=$(prop StartLimitBurst)" \
    "Restart=$(prop Restart))"
  [ "$st" = active ] && [ "$pid" != 0 ] && [ "$pid" != "$1" ]
}
cursor() {
  local c
  c=$(in_ct journalctl -n 1 --show-cursor -o cat | sed -n 's/^-- cursor: //p')
  [ -n "$c" ] || fail "the container's journal gives no cursor"
  echo "$c"
}
journal_since() { in_ct journalctl -u "$UNIT" --no-pager -o short-unix --after-cursor="$1"; }
json() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# --- the ION simulator on the host's loopback (the container shares the network) --------
/usr/bin/python3 "$SRC/tests/ion-sim/ion-sim" --port 0 --ready-file "$T/sim.json" >"$T/sim.log" 2>&1 &
SIM_PID=$!
wait_for 20 test -s "$T/sim.json" || { cat "$T/sim.log" >&2; fail "the ION simulator did not start"; }
# The fixture's demo key, as provision reads it (client id, secret: one per line), in 0600
# files: it goes to provision's stdin and to grep -f, never into argv or the environment.
(
  umask 077
  /usr/bin/python3 - "$SRC/tests/ion-sim/fixtures/factory.json" "$T/apikey" "$T/secret" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write(f["client_id"] + "\n" + f["client_secret"] + "\n")
open(sys.argv[3], "w").write(f["client_secret"] + "\n")
EOF
)

# --- the station: shipped profile, the simulator's CA, the sim-station drop-in -----------
install -m 0644 "$ROOT/usr/share/ion-agent/profiles/assembly-station.json" "$ROOT/etc/ion-agent/station.json"
install -m 0644 "$(json "$T/sim.json" ca)" "$ROOT/etc/ion-agent/ion-sim-ca.pem"
exec_start=$(sed -n 's/^ExecStart=//p' "$ROOT/usr/lib/systemd/system/$UNIT")
[ -n "$exec_start" ] || fail "$UNIT has no ExecStart="
mkdir -p "$ROOT/etc/systemd/system/$UNIT.d"
cat >"$ROOT/etc/systemd/system/$UNIT.d/50-sim-station.conf" <<EOF
# booted-systemd.sh: the simulated station (no scanner or GPIO in a container); all else shipped.
[Service]
ExecStart=
ExecStart=$exec_start --sim /run/ion-agent/station.fifo --metrics /run/ion-agent/ion_agent.prom
EOF

# --- boot ---------------------------------------------------------------------------------
t=$(now_ms)
systemd-nspawn --boot --directory="$ROOT" --register=no --keep-unit --quiet --console=read-only \
  --link-journal=no --resolv-conf=off --timezone=off >"$T/console.log" 2>&1 </dev/null &
NSPAWN_PID=$!
find_leader() {
  kill -0 "$NSPAWN_PID" 2>/dev/null || { sed 's/\x1b\[[0-9;]*m//g' "$T/console.log" >&2; fail "systemd-nspawn exited"; }
  LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd) || return 1
}
wait_for 20 find_leader || fail "no systemd in the container after 20 s"
# is-system-running --wait blocks until the boot is done, once PID 1 answers on its socket.
booted() {
  state=$(in_ct systemctl is-system-running --wait 2>/dev/null) || true
  case "$state" in running | degraded | maintenance | stopping) ;; *) return 1 ;; esac
}
wait_for 60 booted || true
case "$state" in
  running) ;;
  degraded) say "boot: degraded (not ion-agent's doing?): $(in_ct systemctl --failed --plain --no-legend | tr '\n' ' ')" ;;
  *)
    sed 's/\x1b\[[0-9;]*m//g' "$T/console.log" | tail -n 30 >&2
    fail "the container did not finish booting (is-system-running: ${state:-timeout})"
    ;;
esac
say "booted $(in_ct systemctl --version | head -n1 | cut -d' ' -f1-2) in $(($(now_ms) - t)) ms: $state"

# --- 0. profile, no key yet: started at boot, scans kept -----------------------------------
[ "$(in_ct systemctl is-enabled "$UNIT")" = enabled ] || fail "$UNIT is not enabled"
active() { [ "$(prop ActiveState)" = active ]; }
wait_for 20 active ||
  fail "with a profile and no key, $UNIT should run (ConditionResult=$(prop ConditionResult) ActiveState=$(prop ActiveState) Result=$(prop Result))"
ready_ms=$((($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)) / 1000))
[[ "$(prop StatusText)" == *"credentials unusable: "* ]] ||
  fail "without a key StatusText should say the credentials are unusable: '$(prop StatusText)'"
pid=$(prop MainPID)
in_ct bash -c 'echo "scan SN-000104" >/run/ion-agent/station.fifo'
kept() { [[ "$(prop StatusText)" =~ ^pending\ [1-9][0-9]*,\ dead\ 0, ]]; }
wait_for 10 kept || fail "a scan without credentials was not kept (StatusText: $(prop StatusText))"
[ "$(prop NRestarts)" = 0 ] || fail "without a key $UNIT restarted $(prop NRestarts) times"
say "0. no key yet: started at boot, READY=1 $ready_ms ms after exec; a scan kept: $(prop StatusText)"

# --- 1. provision while it runs: the same daemon delivers; start returns on READY=1 -------
out=$(in_ct ion-agent provision --api-url "$(json "$T/sim.json" api_url)" \
  --token-url "$(json "$T/sim.json" token_url)" --ca-file /etc/ion-agent/ion-sim-ca.pem --verify \
  <"$T/apikey" 2>&1) || fail "ion-agent provision failed: $out"
sealed=$(in_ct stat -c '%a %U' /var/lib/ion-agent/credentials.sealed) || fail "provision wrote no credentials.sealed"
[ "$sealed" = "600 ion-agent" ] || fail "credentials.sealed is $sealed, want 600 ion-agent"
delivered() { [[ "$(prop StatusText)" =~ ^pending\ 0,\ dead\ 0,\ delivered\ [1-9] ]]; }
t=$(now_ms)
wait_for 20 delivered || fail "after provision the kept scan was not delivered within 20 s (StatusText: $(prop StatusText))"
[ "$(prop MainPID)" = "$pid" ] || fail "the daemon was restarted to pick up the key (MainPID $pid -> $(prop MainPID))"
say "1. provisioned while running: the same daemon delivered the kept scan in $(($(now_ms) - t)) ms: $(prop StatusText)"
in_ct systemctl stop "$UNIT" || fail "systemctl stop failed"
t=$(now_ms)
timeout 20 nsenter -t "$LEADER" -a -r -w -- "${CT_ENV[@]}" systemctl start "$UNIT" ||
  fail "systemctl start: no READY=1 within 20 s (ActiveState=$(prop ActiveState) SubState=$(prop SubState) Result=$(prop Result))"
start_ms=$(($(now_ms) - t))
[ "$(in_ct systemctl is-active "$UNIT")" = active ] || fail "$UNIT is not active after start"
status=$(prop StatusText)
[[ "$status" =~ ^pending\ [0-9]+,\ dead\ [0-9]+,\ delivered\ [0-9]+,\ link\ (up|down)$ ]] ||
  fail "StatusText is '$status', want the daemon's 'pending N, dead N, delivered N, link up|down' (credentials usable)"
pid=$(prop MainPID)
[ "$(in_ct stat -c %U "/proc/$pid")" = ion-agent ] || fail "the daemon does not run as ion-agent"
say "   systemctl start returned on READY=1 after $start_ms ms; StatusText: $status"

# --- 2. idle restart, stop ----------------------------------------------------------------
figures=()
for _ in 1 2 3; do
  old=$pid t=$(now_ms)
  in_ct systemctl restart "$UNIT" || fail "systemctl restart failed"
  ms=$(($(now_ms) - t)) pid=$(prop MainPID)
  [[ "$pid" != "$old" && "$(prop ActiveState)" == active ]] || fail "restart did not bring a new, active daemon"
  [ "$ms" -lt 1000 ] || fail "idle restart took $ms ms, want < 1000 ms"
  figures+=("${ms}ms")
done
say "2. idle systemctl restart: ${figures[*]} (< 1000 ms each)"
c=$(cursor) t=$(now_ms)
in_ct systemctl stop "$UNIT" || fail "systemctl stop failed"
ms=$(($(now_ms) - t))
code=$(prop ExecMainCode) rc=$(prop ExecMainStatus) result=$(prop Result)
[[ "$code $rc" == "1 0" ]] || fail "after SIGTERM the daemon ended with code=$code status=$rc, want exited (1) with 0"
[ "$result" = success ] || fail "stop: Result=$result, want success"
limit=$(($(in_ct systemd-analyze timespan "$(prop TimeoutStopUSec)" | sed -n 's/^ *μs: *//p') / 1000))
[ "$ms" -lt "$limit" ] || fail "stop took $ms ms, over TimeoutStopSec ($limit ms)"
[ "$ms" -lt 5000 ] || fail "stop of the idle daemon took $ms ms, want < 5000 ms"
j=$(journal_since "$c")
! grep -Eq 'SIGKILL|timed out' <<<"$j" || fail "stop needed SIGKILL: $j"
say "   systemctl stop (SIGTERM): exit status 0 after $ms ms (TimeoutStopSec $((limit / 1000)) s), Result=success"

# --- 3. watchdog --------------------------------------------------------------------------
# (read while the last start's values hold: the unit as shipped, plus the sim drop-in)
shipped_wd=$(prop WatchdogUSec) restart=$(prop Restart) restart_sec=$(prop RestartUSec)
[[ -n "$shipped_wd" && "$shipped_wd" != 0 && "$shipped_wd" != infinity ]] || fail "$UNIT sets no WatchdogSec= (WatchdogUSec=$shipped_wd)"
[[ "$(prop Type) $(prop NotifyAccess)" == "notify main" ]] || fail "$UNIT: want Type=notify, NotifyAccess=main"
# --- 4's static half: what the unit says about giving up
[ "$restart" = always ] || fail "$UNIT: Restart=$restart, want always (a station without its agent is dark)"
[ "$(prop StartLimitIntervalUSec)" = 0 ] ||
  fail "$UNIT: StartLimitIntervalUSec=$(prop StartLimitIntervalUSec): a crash loop would stop it for good; want StartLimitIntervalSec=0"
say "3. unit: WatchdogSec=$shipped_wd Restart=$restart RestartSec=$restart_sec StartLimitIntervalSec=$(prop StartLimitIntervalUSec) (never gives up)"
in_ct sh -c "mkdir -p /run/systemd/system/$UNIT.d && cat >/run/systemd/system/$UNIT.d/60-fast.conf" <<EOF
[Service]
WatchdogSec=${WD_FAST}s
RestartSec=200ms
EOF
in_ct systemctl daemon-reload
in_ct systemctl start "$UNIT"
# (WatchdogUSec= is the value the running service got at its start.)
[ "$(prop WatchdogUSec)" = "${WD_FAST}s" ] || fail "the runtime drop-in did not apply (WatchdogUSec=$(prop WatchdogUSec))"
pid=$(prop MainPID) n0=$(prop NRestarts)
sleep "$((WD_FAST + 1))"
[[ "$(prop MainPID) $(prop NRestarts)" == "$pid $n0" ]] ||
  fail "an idle, healthy daemon was restarted within $((WD_FAST + 1)) s of WatchdogSec=${WD_FAST}s: no WATCHDOG=1 pings?"
[ "$(prop WatchdogTimestampMonotonic)" -gt "$(prop ExecMainStartTimestampMonotonic)" ] ||
  fail "systemd received no WATCHDOG=1 from the daemon"
c=$(cursor) t=$(date +%s%N)
# shellcheck disable=SC2016 # expanded by the bash in the container
in_ct bash -c 'kill -STOP "$1"' kill "$pid"
wait_for $((WD_FAST + 15)) back_from "$pid" || fail "the SIGSTOPped daemon (pid $pid) was not restarted within $((WD_FAST + 15)) s"
t_back=$(date +%s%N)
j=$(journal_since "$c")
wd_line=$(grep -m1 'Watchdog timeout' <<<"$j") || fail "no 'Watchdog timeout' in the journal: $j"
grep -q "Main process exited, code=\(killed\|dumped\), status=6/ABRT" <<<"$j" ||
  fail "the watchdog did not end the daemon with SIGABRT: $j"
[ "$(prop NRestarts)" = "$((n0 + 1))" ] || fail "NRestarts $(prop NRestarts), want $((n0 + 1))"
t_wd=$(awk '{sub(/\./, "", $1); print $1 "000"}' <<<"$wd_line")  # journal time (us) to ns
stop_to_kill=$(((t_wd - t) / 1000000)) kill_to_back=$(((t_back - t_wd) / 1000000))
[ "$stop_to_kill" -le $((WD_FAST * 1000 + 1500)) ] || fail "watchdog fired $stop_to_kill ms after SIGSTOP, WatchdogSec=${WD_FAST}s"
say "   pings kept the idle daemon alive for $((WD_FAST + 1)) s; SIGSTOP: watchdog timeout after $stop_to_kill ms," \
  "SIGABRT, new MainPID $(prop MainPID) active $kill_to_back ms later (RestartSec=200ms), NRestarts $n0 -> $(prop NRestarts)"

# --- 4. crash loop ------------------------------------------------------------------------
n0=$(prop NRestarts) t=$(now_ms)
sigs=(SEGV KILL ABRT)
for i in $(seq "$CRASHES"); do
  pid=$(prop MainPID) sig=${sigs[$((i % 3))]}
  # shellcheck disable=SC2016
  in_ct bash -c 'kill -s "$1" "$2"' kill "$sig" "$pid"
  wait_for 10 back_from "$pid" || fail "crash $i (SIG$sig): $UNIT not back within 10 s (ActiveState=$(prop ActiveState))"
done
ms=$(($(now_ms) - t))
[ "$(prop NRestarts)" = "$((n0 + CRASHES))" ] || fail "NRestarts $(prop NRestarts) after $CRASHES crashes, want $((n0 + CRASHES))"
say "4. crash loop: $CRASHES kills (SEGV/KILL/ABRT) in $ms ms, back every time (NRestarts $n0 -> $(prop NRestarts)), still active"

in_ct rm -f "/run/systemd/system/$UNIT.d/60-fast.conf"
in_ct systemctl daemon-reload

# --- 5. the device key as an encrypted credential (DEPLOYING.md "systemd-creds") ----------
# The recipe as documented, with --with-key=host (a container has no TPM; host+tpm2 on a
# board): seal device.key, hand it over with LoadCredentialEncrypted=, delete the clear file.
creds_dir=/etc/credstore.encrypted
in_ct mkdir -p "$creds_dir"
in_ct systemd-creds encrypt --with-key=host --name=ion-agent.devkey /var/lib/ion-agent/device.key \
  "$creds_dir/ion-agent.devkey" || fail "systemd-creds encrypt of device.key failed"
in_ct sh -c "cat >/etc/systemd/system/$UNIT.d/70-devkey.conf" <<EOF
[Service]
LoadCredentialEncrypted=ion-agent.devkey:$creds_dir/ion-agent.devkey
EOF
in_ct shred -u /var/lib/ion-agent/device.key
in_ct systemctl daemon-reload
c=$(cursor)
in_ct systemctl restart "$UNIT" || fail "restart with LoadCredentialEncrypted= failed (Result=$(prop Result))"
wait_for 10 active || fail "$UNIT not active with the encrypted device key"
j=$(journal_since "$c")
grep -q 'key protected by device key from systemd credential ion-agent.devkey' <<<"$j" ||
  fail "the daemon did not take the device key from its credential: $j"
[[ "$(prop StatusText)" != *"credentials unusable"* ]] || fail "with the credential: $(prop StatusText)"
in_ct test ! -e /var/lib/ion-agent/device.key || fail "device.key is still on disk"
before=$(prop StatusText)
in_ct bash -c 'echo "scan SN-000105" >/run/ion-agent/station.fifo'
wait_for 15 delivered || fail "with the encrypted device key a scan was not delivered (StatusText: $(prop StatusText))"
after=$(prop StatusText)
# Outside the unit there is no device key: `check` fails (ion-agent(8) EXIT STATUS).
rc=0
in_ct runuser -u ion-agent -- ion-agent check --state-dir /var/lib/ion-agent >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "ion-agent check outside the unit opened the key without the credential"
# A damaged credential is refused by systemd: the unit does not start with it.
in_ct sh -c "head -c 200 /dev/urandom >$creds_dir/ion-agent.devkey"
! in_ct systemctl restart "$UNIT" 2>/dev/null || fail "$UNIT started with a damaged encrypted credential"
in_ct systemctl reset-failed "$UNIT" 2>/dev/null || true
say "5. device key as a systemd credential (LoadCredentialEncrypted=, --with-key=host): taken from" \
  "CREDENTIALS_DIRECTORY, no device.key on disk, a scan delivered ($before -> $after);" \
  "outside the unit check exits $rc; a damaged credential keeps the unit from starting"
# The key was fed on stdin: it must be in no log of the container.
in_ct journalctl --no-pager -o cat >"$T/journal.txt"
! grep -qF -f "$T/secret" "$T/journal.txt" "$T/console.log" || fail "the API secret appears in the journal or on the console"
say "no API secret in the journal; done in $((SECONDS - T0)) s"
