#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README command 1: the demo. Builds ion-agent, starts the ION simulator with its seeded
# factory, provisions the demo API key, and runs the station daemon with the simulated HAL
# through a scripted shift at an assembly station (firmware/profiles/assembly-station.json):
# scans, PASS/FAIL pedal presses, a unit ION holds (interlock), a network outage in the middle
# with a photo from the bench camera (a folder input) that is attached once ION is back, and the
# recovery. Then it
# prints what ION now holds next to what was scanned.
#   tests/run-demo.sh                 the scripted shift (about a minute)
#   tests/run-demo.sh --interactive   type `scan TEXT`, `press NAME`, `release NAME`,
#                                     `click NAME`, `photo NAME`, `status`, `outage`, `recover`, `quit`
#   PROFILE=firmware/profiles/test-stand.json tests/run-demo.sh --interactive
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
INTERACTIVE=0
[ "${1:-}" = "--interactive" ] && INTERACTIVE=1
PROFILE=${PROFILE:-firmware/profiles/assembly-station.json}

tests/install-deps.sh
BUILD=${BUILD_DIR:-build}
echo "== building ion-agent (${BUILD})"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ion-agent >/dev/null
AGENT="$ROOT/$BUILD/firmware/ion-agent"

T=$(mktemp -d /tmp/ion-demo.XXXXXX)
SIM_PID=""
AGENT_PID=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
json() { /usr/bin/python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
simctl() { tests/ion-sim/simctl --ready-file "$T/sim.json" "$@"; }

echo "== starting the ION simulator (seeded factory)"
tests/ion-sim/ion-sim --port 0 --ready-file "$T/sim.json" >"$T/sim.log" 2>&1 &
SIM_PID=$!
simctl --wait 20 wait >/dev/null

echo "== provisioning the demo API key (client id + secret on stdin, sealed in $T/state)"
mkdir -p "$T/state"
printf 'ion-agent-demo\ndemo-secret-0f3c9a1e7b2d4c58\n' |
  "$AGENT" provision --state-dir "$T/state" --api-url "$(json "$T/sim.json" api_url)" \
    --token-url "$(json "$T/sim.json" token_url)" --ca-file "$(json "$T/sim.json" ca)" --verify 2>/dev/null

# The assembly profile's bench camera folder lives in the demo's scratch directory.
RUN_PROFILE="$PROFILE"
CAMERA=""
if grep -q '/srv/bench-camera' "$PROFILE"; then
  CAMERA="$T/camera"
  mkdir -p "$CAMERA"
  sed "s#/srv/bench-camera#$CAMERA#" "$PROFILE" >"$T/profile.json"
  RUN_PROFILE="$T/profile.json"
fi
# The camera writes a photo: under a hidden name first, then renamed into place (one event).
photo() {
  [ -n "$CAMERA" ] || { echo "  (this profile has no camera folder)"; return; }
  echo "  > the bench camera writes $1.jpg"
  { printf '\xff\xd8\xff\xe0'; head -c 300000 /dev/urandom; } >"$CAMERA/.$1.jpg.part"
  mv "$CAMERA/.$1.jpg.part" "$CAMERA/$1.jpg"
}

echo "== starting the station daemon: $PROFILE, simulated inputs on a FIFO"
mkfifo "$T/station.fifo"
"$AGENT" run --config "$RUN_PROFILE" --state-dir "$T/state" --sim "$T/station.fifo" \
  --metrics "$T/ion_agent.prom" >"$T/outputs.log" 2>"$T/agent.log" &
AGENT_PID=$!
exec 3>"$T/station.fifo"  # keep one writer open for the whole shift
for _ in $(seq 100); do [ -f "$T/state/status.json" ] && break; sleep 0.1; done

SHOWN_OUT=0
SHOWN_LOG=0
# Prints what the station did since the last call: lights and the daemon's log.
show() {
  sleep "${1:-0.6}"
  local n
  n=$(wc -l <"$T/outputs.log")
  if [ "$n" -gt "$SHOWN_OUT" ]; then
    tail -n +"$((SHOWN_OUT + 1))" "$T/outputs.log" | head -n "$((n - SHOWN_OUT))" |
      awk '$1 == "read" { printf "      read: %s sends \"%s\" (answer: reading %s TEXT)\n", $2, substr($0, length($1 $2) + 3), $2 }
           $1 == "output" && $3 == "on" { n[$2]++ }
           END { for (o in n) printf "      light: %s%s\n", o, (n[o] > 1 ? " (blinks " n[o] "x)" : "") }' || true
    SHOWN_OUT=$n
  fi
  n=$(wc -l <"$T/agent.log")
  if [ "$n" -gt "$SHOWN_LOG" ]; then
    tail -n +"$((SHOWN_LOG + 1))" "$T/agent.log" | head -n "$((n - SHOWN_LOG))" | sed 's/^<[0-9]>/      agent: /'
    SHOWN_LOG=$n
  fi
}
station() { echo "  > $*"; echo "$*" >&3; }
status() { echo "  \$ ion-agent status"; "$AGENT" status --state-dir "$T/state" | sed 's/^/      /'; }

if [ "$INTERACTIVE" = 1 ]; then
  cat <<'HELP'
== interactive station. Commands:
   scan TEXT | press NAME | release NAME | click NAME   (inputs of the profile)
   reading NAME TEXT                                    (a reply of instrument NAME)
   photo NAME                                           (the bench camera writes NAME.jpg)
   status | outage | recover | ion | quit
HELP
  while IFS= read -r -p "station> " line; do
    case "$line" in
      quit|exit) break ;;
      status) status ;;
      outage) simctl fault status 503 --forever --match any >/dev/null; echo "  ION is now unreachable (503)" ;;
      recover) simctl faults clear >/dev/null; echo "  ION is back" ;;
      ion) simctl summary | sed 's/^/      /' ;;
      photo\ *) photo "${line#photo }"; show 0.5 ;;
      "") ;;
      *) station "$line"; show 0.5 ;;
    esac
  done
else
  echo
  echo "== quality puts unit SN-000103's run on HOLD in ION (its step 19011)"
  simctl set run_steps 19011 '{"status":"HOLD"}' >/dev/null

  echo
  echo "== the shift: operator badge, unit SN-000104 passes"
  station scan OP-1001; show
  station press pass; station release pass; show   # no unit yet: red
  station scan SN-000104; show
  station click pass; show
  station scan HELLO-WORLD; show                   # not a label this station knows: red
  station scan SN-000103; show                     # held at ION: the interlock light, nothing queued
  status

  echo
  echo "== network outage: ION answers 503 to everything; the station keeps working"
  simctl fault status 503 --forever --match any >/dev/null
  station scan SN-000105; show
  station click fail; show
  station scan SN-000101; show
  photo SN-000101; show                            # copied into the outbox: green, offline
  station click pass; show 1.5
  status

  echo
  echo "== recovery: ION is back; the outbox drains in order"
  simctl faults clear >/dev/null
  for _ in $(seq 120); do
    pending=$("$AGENT" status --state-dir "$T/state" --json 2>/dev/null |
      /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); q=d.get("queue",d); print(q.get("pending",0)+q.get("in_flight",0))' 2>/dev/null || echo 1)
    [ "$pending" = "0" ] && break
    sleep 0.5
  done
  show 0.2
  status
fi

echo
echo "== stopping the daemon (SIGTERM: in-flight deliveries finish first)"
exec 3>&-
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""
show 0

echo
echo "== what was scanned / pressed at the station"
grep -E '^<[0-9]>station: ' "$T/agent.log" | grep -vE 'station: (running|stopping|stopped)' | sed 's/^<[0-9]>station: /   /' || true
echo
echo "== what ION now holds"
simctl summary | sed 's/^/   /'
echo
echo "== metrics (node_exporter textfile, excerpt)"
grep -E '^ion_agent_(pending|dead|delivered_total|events_accepted_total|events_refused_total|accept_latency_max_seconds|link_up)' "$T/ion_agent.prom" | sed 's/^/   /' || true
