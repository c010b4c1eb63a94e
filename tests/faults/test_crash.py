# SPDX-License-Identifier: Apache-2.0
"""Crash loop: kill -9 the daemon at random moments while it scans and drains.

Each cycle starts `ion-agent run`, feeds it two units' worth of inputs (8 intents) through its
FIFO while it is also delivering the backlog, and SIGKILLs it after a random 0-400 ms. Lines
it had read but not committed are simply not accepted (no green); whatever was committed must
survive, be delivered exactly once, and in order per unit. After the last cycle one clean run
drains the outbox, and ION's state and request log are compared with the outbox.
test_slow_* runs 500 cycles (CTest label `slow`); the default run does 25.
"""
import random
import sqlite3
import threading
import time

from conftest import station
from rig import unit_lines, verify_delivery


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
