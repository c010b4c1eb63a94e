# SPDX-License-Identifier: Apache-2.0
"""Input storms at the daemon: a scanner flooding scans faster than they can be committed.

The flood goes through the simulated station's FIFO as fast as the pipe takes it (the pipe's
back-pressure is what a tty or evdev buffer gives a real reader). Every scan must get a
verdict: accepted (green, its intents durable) or refused with red (here: the outbox's size
bound, 1 MiB, runs out while ION is away) - none dropped silently, none half-stored. Then ION
comes back and everything accepted is delivered. (The GPIO bounce storm is gpio_storm_test.cpp.)
"""
import re
import time

import rig
from conftest import station
from rig import verify_delivery, wait_for


def verdicts(agent):
    out = {}
    for m in re.finditer(r'station: scan "(SN-\d+)": (.*)', agent.stderr()):
        out[m.group(1)] = "accepted" in m.group(2) and "not accepted" not in m.group(2)
    return out


def test_scan_flood_every_scan_accepted_or_refused_red(cl):
    prof = rig.profile()
    prof["outbox"] = {"max_mb": 1}
    prof["feedback"]["queue_full"] = {"red": "pulse 20ms"}
    prof["feedback"]["storage_error"] = {"red": "pulse 20ms"}
    _, sim, agent = station(cl, "flood", prof=prof)
    sim.ctl("fault", "status", "503", "--forever", "--match", "any")
    n = 3000
    serials = ["SN-%06d" % (400000 + i) for i in range(n)]
    t0 = time.monotonic()
    agent.send(["scan " + s for s in serials])
    wait_for(lambda: len(verdicts(agent)) >= n or not agent.alive(), 300, "a verdict for each of %d scans" % n, 0.5)
    elapsed = time.monotonic() - t0
    assert agent.alive(), agent.stderr()[-2000:]
    v = verdicts(agent)
    assert set(v) == set(serials), "scans without a verdict: %d" % len(set(serials) - set(v))
    stored = {}
    for i in agent.intents():
        stored.setdefault(i["inputs"]["serial"], []).append(i["kind"])
    for s in serials:
        assert stored.get(s, []) == (["unit.ensure", "run.ensure", "step.status"] if v[s] else []), s
    accepted = sum(v.values())
    refused = n - accepted
    assert refused > 0, "the 1 MiB bound never filled: the test did not flood"
    reds = agent.stdout().count("output red on")
    assert reds >= 1
    print("flood: %d scans in %.1f s (%.0f/s): %d accepted, %d refused (queue full), %d red pulses" %
          (n, elapsed, n / elapsed, accepted, refused, reds))
    sim.ctl("faults", "clear")
    agent.wait_drained(900)
    print("flood:", verify_delivery(agent, sim))
