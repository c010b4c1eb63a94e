# SPDX-License-Identifier: Apache-2.0
"""Crash loop: kill -9 the daemon at random moments while it scans and drains.

Each cycle starts `ion-agent run`, feeds it two units' worth of inputs (8 intents) through its
FIFO while it is also delivering the backlog, and SIGKILLs it after a random 0-400 ms. Lines
it had read but not committed are simply not accepted (no green); whatever was committed must
survive, be delivered exactly once, and in order per unit. After the last cycle one clean run
drains the outbox, and ION's state and request log are compared with the outbox.
test_slow_* runs 500 cycles (CTest label `slow`); the default run does 25.

Restarts while read: kill -9 and restart while another process reads the outbox in a loop
(python sqlite3 and `ion-agent queue list`); every start must come back. 25 restarts by
default, 200 in the slow run.
"""
import random
import sqlite3
import subprocess
import threading
import time

from conftest import station
from rig import AGENT, unit_lines, verify_delivery


def feed(agent, lines):
    try:
        agent.send(lines)
    except (BrokenPipeError, OSError):
        pass  # the agent died under us: the rest of these lines were never read


def crash_loop(cl, cycles, seed):
    rnd = random.Random(seed)
    _, sim, agent = station(cl, "crash", start=False)
    next_unit = 0
    kills_while_in_flight = 0
    for _ in range(cycles):
        agent.start(wait_ready=False)
        writer = threading.Thread(target=feed, args=(agent, unit_lines(next_unit, 2)), daemon=True)
        writer.start()
        next_unit += 2
        time.sleep(rnd.uniform(0.0, 0.4))
        in_flight_before = agent.counts()[1]
        agent.proc.kill()
        agent.proc.wait()
        kills_while_in_flight += 1 if in_flight_before else 0
        agent.close_fifo()
        writer.join(5)
    db = sqlite3.connect(agent.db_path())
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    accepted_before_drain = len(agent.intents())
    agent.start()
    agent.wait_drained(600)
    assert agent.stop() == 0
    figures = verify_delivery(agent, sim)
    print("crash loop: %d cycles (seed %d), %d kills with intents in flight, %d intents accepted; %s" %
          (cycles, seed, kills_while_in_flight, accepted_before_drain, figures))
    assert accepted_before_drain > 0


def test_crash_loop_short(cl):
    crash_loop(cl, 25, seed=int(time.time()))


def test_slow_crash_loop_500_cycles(cl):
    crash_loop(cl, 500, seed=int(time.time()))


def read_outbox_forever(agent, stop, figures):
    """What an operator's `ion-agent status` / `queue list` or a cron job does: read the outbox,
    over and over, from another process, while the daemon crashes and restarts."""
    n = 0
    while not stop.is_set():
        n += 1
        if n % 4 == 0:
            subprocess.run([AGENT, "queue", "--state-dir", agent.state, "list"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            continue
        try:
            db = sqlite3.connect(agent.db_path(), timeout=5)
            db.execute("BEGIN")
            db.execute("SELECT state, COUNT(*) FROM intents GROUP BY state").fetchall()
            time.sleep(0.005)
            db.execute("COMMIT")
            db.close()
        except sqlite3.Error:
            pass  # not there yet, or busy: the reader's problem, not the daemon's
    figures["reads"] = n


def restarts_while_read(cl, restarts, seed):
    """kill -9 + restart while another process reads the outbox in a loop: every start must
    come back (issue 19: the busy timeout was set only after the integrity check, so a reader
    holding the file turned a restart into exit 15 "database is corrupt")."""
    rnd = random.Random(seed)
    _, sim, agent = station(cl, "restart-read", start=False)
    agent.start()
    agent.send(unit_lines(0, 1))
    agent.wait_accepted(1)
    stop, figures = threading.Event(), {}
    reader = threading.Thread(target=read_outbox_forever, args=(agent, stop, figures), daemon=True)
    reader.start()
    started, refused = 0, []
    try:
        for n in range(restarts):
            agent.kill()
            agent.start()
            if agent.alive():
                started += 1
            else:
                refused.append((n, agent.proc.returncode, agent.stderr()[-400:]))
                continue
            time.sleep(rnd.uniform(0.0, 0.15))
    finally:
        stop.set()
        reader.join(30)
    agent.kill()
    print("restarts while read: %d of %d started (seed %d), %d reads" % (started, restarts, seed,
                                                                         figures.get("reads", 0)))
    assert not refused, "restarts refused: %s" % refused[:3]
    agent.start()
    agent.wait_drained(120)
    assert agent.stop() == 0
    verify_delivery(agent, sim)


def test_restarts_come_back_while_the_outbox_is_read(cl):
    restarts_while_read(cl, 25, seed=int(time.time()))


def test_slow_restarts_come_back_while_the_outbox_is_read_200(cl):
    restarts_while_read(cl, 200, seed=int(time.time()))
