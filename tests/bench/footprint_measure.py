#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The footprint figures of one ion-agent binary (printed, not asserted; tests/bench/footprint.sh).

  ION_AGENT_EXE=PATH tests/bench/footprint_measure.py [--scans N] [--interval-ms MS]
                                                      [--runtime-dir DIR|none] [--label NAME]

Starts the ION simulator and a provisioned `ion-agent run --sim FIFO` with NOTIFY_SOCKET set,
and prints: stripped size, what `ldd` lists, start to READY=1 (median of --starts runs),
idle RSS/PSS/USS (USS = Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, 3 s after
READY=1), and bytes written to storage per accepted event (/proc/PID/io write_bytes over
--scans scans sent one at a time, each waited for until its green line, with ION in an outage
so deliveries do not write in between; --online: with ION up, counted until the outbox has
drained, so delivery's writes are in the figure too). One line per figure, then a markdown
table row.

The target is judged on write_bytes: the page-cache pages the agent dirtied on storage, counted
whole (4 KiB) each time a page clean after the last fsync is dirtied again, which is what the
file system writes to the device. wchar (bytes passed to write()/pwrite()) is printed beside
it, not judged: it also counts the log on stderr (journald's pipe on a board, a file here;
printed separately) and the simulator's output lines on the stdout pipe, which are not the
agent's storage writes, and it counts the WAL's frames without the rounding to pages.

The agent runs as the systemd unit runs it, with $RUNTIME_DIRECTORY on tmpfs (a fresh folder
under /dev/shm; --runtime-dir none leaves it unset), where status.json goes. status.json is
rewritten at most once a second, so the default pace (a scan every few ms) hides it: with
--interval-ms 1100 each event pays for its own rewrite where it is written to storage.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, HERE)
import rig  # noqa: E402
from agent_bench import Greens, memory, proc_kv  # noqa: E402

TARGETS = {"stripped": 1.5 * 1024 * 1024, "uss": 3 * 1024, "ready_ms": 20.0, "bytes_per_event": 8 * 1024}


def start(agent, env_extra=None):
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns_path = os.path.join(agent.dir, "notify-%d.sock" % time.monotonic_ns())
    ns.bind(ns_path)
    ns.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET=ns_path)
    env.update(env_extra or {})
    argv = [rig.AGENT, "run", "--config", agent.config, "--state-dir", agent.state, "--sim", agent.fifo]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(agent.err_path, "a"), text=True, env=env)
    while b"READY=1" not in ns.recv(4096):
        pass
    ready_ms = (time.perf_counter() - t0) * 1e3
    ns.close()
    os.unlink(ns_path)
    return p, ready_ms


def stop(p):
    p.terminate()
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scans", type=int, default=300, help="scans timed one by one for bytes per event")
    ap.add_argument("--starts", type=int, default=5, help="starts timed for start to READY=1")
    ap.add_argument("--interval-ms", type=float, default=5, help="pause after each scan's green line")
    ap.add_argument("--runtime-dir", default="", help="$RUNTIME_DIRECTORY (default: fresh under /dev/shm; none)")
    ap.add_argument("--label", default=os.path.basename(rig.AGENT))
    ap.add_argument("--online", action="store_true",
                    help="ION up: bytes per event include its delivery (measured once the outbox drained)")
    args = ap.parse_args()
    cl = rig.Cleanup()
    try:
        run(cl, args)
    finally:
        cl.close()


def run(cl, args):
    wd = rig.new_workdir(cl, "footprint")
    sim = rig.Sim(cl, wd)
    prof = rig.profile(retry_cap_ms=1000, connect_timeout_ms=10000, timeout_ms=30000)
    prof["feedback"]["accepted"] = {"green": "pulse 1ms"}
    agent = rig.Agent(cl, wd, sim, prof=prof)
    agent.provision()
    runtime = {}
    if args.runtime_dir != "none":
        rt = args.runtime_dir
        if not rt:
            import tempfile
            rt = tempfile.mkdtemp(prefix="ion-footprint-run-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
            cl.push(lambda: shutil.rmtree(rt, True))
        runtime = {"RUNTIME_DIRECTORY": rt}
    stripped = os.path.join(wd, "ion-agent.stripped")
    rig.run(["strip", "-o", stripped, rig.AGENT])
    size = os.path.getsize(stripped)
    ldd = rig.run(["ldd", rig.AGENT], check=False).stdout
    libs = sorted({line.split()[0] for line in ldd.splitlines() if line.strip() and "linux-vdso" not in line})

    # Start to READY=1: the first start creates the outbox; time the later ones (a board
    # restarts over an existing state dir far more often than it is provisioned).
    times = []
    for i in range(args.starts + 1):
        p, ms = start(agent, runtime)
        stop(p)
        if i:
            times.append(ms)
    ready_ms = statistics.median(times)

    p, _ = start(agent, runtime)
    cl.push(lambda: (p.poll() is None and p.kill(), p.wait()))
    greens = Greens(p.stdout)
    fifo = open(agent.fifo, "w")
    time.sleep(3)
    rss, uss, pss = memory(p.pid)

    if not args.online:
        sim.ctl("fault", "status", "503", "--forever", "--match", "any")
    io0 = proc_kv(p.pid, "io")
    log0 = os.path.getsize(agent.err_path)
    for i in range(args.scans):
        fifo.write("scan SN-%06d\n" % (500000 + (i * 7919) % 400000))
        fifo.flush()
        greens.wait(i + 1)
        time.sleep(args.interval_ms / 1000.0)
    if args.online:
        agent.wait_drained(timeout=120)
    io1 = proc_kv(p.pid, "io")
    log_bytes = (os.path.getsize(agent.err_path) - log0) / args.scans
    fifo.close()
    wbytes = (int(io1["write_bytes"]) - int(io0["write_bytes"])) / args.scans
    wchar = (int(io1["wchar"]) - int(io0["wchar"])) / args.scans

    def mark(ok):
        return "met" if ok else "MISSED"

    print("footprint of %s (%s)" % (rig.AGENT, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("  stripped size:      %d B (%.2f MiB)  target <= 1.5 MiB: %s" %
          (size, size / 1048576.0, mark(size <= TARGETS["stripped"])))
    print("  ldd:                %s" % " ".join(libs))
    print("  idle memory:        RSS %d KiB, PSS %d KiB, USS %d KiB  USS target <= 3072 KiB: %s" %
          (rss, pss, uss, mark(uss <= TARGETS["uss"])))
    print("  start to READY=1:   %.1f ms (median of %d)  target <= 20 ms: %s" %
          (ready_ms, len(times), mark(ready_ms <= TARGETS["ready_ms"])))
    print("  per accepted event: %.0f B written to storage, %.0f B via write() of which %.0f B log"
          " (%d scans, %g ms apart%s%s)  storage target <= 8192 B: %s" %
          (wbytes, wchar, log_bytes, args.scans, args.interval_ms,
           ", RUNTIME_DIRECTORY set" if runtime else "",
           ", ION up: accepted and delivered" if args.online else ", ION in an outage: accepted",
           mark(wbytes <= TARGETS["bytes_per_event"])))
    print("| %s | %.2f MiB | %s | %d / %d / %d KiB | %.1f ms | %.0f B (%.0f B via write()) |" %
          (args.label, size / 1048576.0, ", ".join(lib.split(".so")[0] for lib in libs), rss, pss, uss, ready_ms,
           wbytes, wchar))


if __name__ == "__main__":
    main()
