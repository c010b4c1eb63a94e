# SPDX-License-Identifier: Apache-2.0
"""Network faults: the real daemon against the real simulator while the link or ION misbehaves.

Link faults run the agent and the simulator in two network namespaces of their own joined by a
veth pair; nftables rules in the simulator's namespace drop, reset or randomly lose the agent's
packets, and tbf throttles both ends. ION faults (slow answers, 5xx, 429, expired tokens, a
revoked key, answers lost after ION applied a mutation) come from the simulator itself.

Time compression: the profile sets ion.retry_cap_ms = 2000 and retry_base_ms = 100 (defaults
300000 and 500), so the agent's capped backoff is 150x shorter; a 15 s outage spans as many
capped retries as a 37-minute one with the defaults, the "10-minute outage" and then some.

Every scenario ends with verify_delivery(): ION's state and request log against the outbox.
Tests named test_slow_* are the long variants (CTest label `slow`).
"""
import re
import time

import pytest

import rig
from conftest import station
from rig import DONE, DEAD, PENDING, unit_lines, verify_delivery, wait_for


def accept_backlog(agent, units, first=0, timeout=120):
    agent.send(unit_lines(first, units))
    agent.wait_accepted(4 * units, timeout)


def green_pulses(agent):
    return agent.stdout().count("output green on")


def test_outage_keeps_accepting_and_drains_after(cl, need_root):
    ns, sim, agent = station(cl, "outage", netns=True)
    ns.cut("drop", sim.port)
    accept_backlog(agent, 25)
    # Every event lit green while ION was unreachable (25 scans + 25 presses).
    wait_for(lambda: green_pulses(agent) >= 50, 10, "50 green pulses")
    time.sleep(15)  # the outage (time-compressed, see the module comment)
    assert agent.counts()[DONE] == 0
    assert agent.alive()
    ns.heal()
    t0 = time.monotonic()
    agent.wait_drained(90)
    figures = verify_delivery(agent, sim)
    print("outage: drained %d intents %.1f s after the link came back; %s" %
          (figures["intents"], time.monotonic() - t0, figures))


def flap_until_drained(agent, ns, port, timeout, period=2.0, down=1.0):
    """Cuts the link for `down` s every `period` s (alternating drop and TCP reset)."""
    end = time.monotonic() + timeout
    n = 0
    while time.monotonic() < end:
        c = agent.counts()
        if c[PENDING] == 0 and c[rig.IN_FLIGHT] == 0:
            return n
        ns.cut("drop" if n % 2 == 0 else "reset", port)
        time.sleep(down)
        ns.heal()
        time.sleep(period - down)
        n += 1
    raise AssertionError("not drained within %d s of flapping: %s" % (timeout, agent.counts()))


def flapping_drain(cl, units, timeout):
    ns, sim, agent = station(cl, "flap", netns=True)
    ns.cut("drop", sim.port)
    accept_backlog(agent, units, timeout=timeout)
    ns.heal()
    t0 = time.monotonic()
    flaps = flap_until_drained(agent, ns, sim.port, timeout)
    figures = verify_delivery(agent, sim)
    print("flapping: %d intents drained through %d flaps in %.1f s; %s" %
          (figures["intents"], flaps, time.monotonic() - t0, figures))
    assert flaps >= 2, "the drain finished before the link flapped"


def test_flapping_link_during_drain(cl, need_root):
    flapping_drain(cl, 100, 240)  # 400 intents


def test_slow_flapping_link_during_5000_intent_drain(cl, need_root):
    flapping_drain(cl, 1250, 3000)  # 5 000 intents


def test_packet_loss_and_throttled_link(cl, need_root):
    ns, sim, agent = station(cl, "lossy", netns=True)
    ns.cut("drop", sim.port)
    accept_backlog(agent, 20)
    ns.heal()
    ns.throttle("512kbit")
    ns.cut("20%")  # numgen: a fifth of the agent's packets vanish
    agent.wait_drained(240)
    print("loss+tbf:", verify_delivery(agent, sim))


def outage_at_ion(sim):
    sim.ctl("fault", "status", "503", "--forever", "--match", "any")


def test_server_slower_than_the_timeout(cl):
    # timeout_ms 4000; ION answers after 6 s, and applies the mutation anyway: the retry must
    # find what the first attempt did instead of doing it again.
    _, sim, agent = station(cl, "slowsrv")
    sim.ctl("fault", "delay", "6", "--count", "3", "--mutations-only")
    accept_backlog(agent, 10)
    agent.wait_drained(120)
    # The delayed requests were given up (their log entries may be lost with the connection).
    assert re.search(r"time(d)? ?out", agent.stderr(), re.I), agent.stderr()[-2000:]
    print("slow server:", verify_delivery(agent, sim))


def test_5xx_storm(cl):
    _, sim, agent = station(cl, "5xx")
    outage_at_ion(sim)
    accept_backlog(agent, 90)  # batching sends few HTTP requests: enough of them to storm on
    sim.ctl("faults", "clear")
    sim.ctl("fault", "status", "503", "--probability", "0.15")
    sim.ctl("fault", "status", "502", "--probability", "0.1", "--mutations-only")

    def answered_5xx():  # each request a batch carried counts
        return sum(rig.operations_in(e) for e in sim.log() if e.get("status") in (502, 503))
    wait_for(lambda: agent.counts()[DONE] >= 40 and answered_5xx() >= 10, 180,
             "40 intents delivered through at least 10 5xx answers", 0.5)
    sim.ctl("faults", "clear")
    agent.wait_drained(120)
    assert answered_5xx() >= 10, answered_5xx()
    print("5xx storm: %d 5xx answers;" % answered_5xx(), verify_delivery(agent, sim))


def test_answers_lost_after_ion_applied(cl):
    _, sim, agent = station(cl, "lost-answers")
    sim.ctl("fault", "drop-after-apply", "--probability", "0.3")
    accept_backlog(agent, 90)  # batching sends few HTTP requests: enough of them to lose answers of
    agent.wait_drained(120)
    lost = sum(1 for e, _, _ in rig.applied_mutations(sim.log()) if e.get("fault"))  # mutations, batched or not
    assert lost >= 5, lost
    print("lost answers: %d;" % lost, verify_delivery(agent, sim))


def test_429_retry_after_is_honoured(cl):
    _, sim, agent = station(cl, "429")
    outage_at_ion(sim)
    accept_backlog(agent, 10)
    sim.ctl("faults", "clear")
    sim.ctl("fault", "rate-limit", "--retry-after", "3")
    agent.wait_drained(120)
    log = [e for e in sim.log() if e["endpoint"] == "graphql"]
    limited = [e for e in log if e.get("status") == 429]
    assert len(limited) == 1, limited
    after = [e for e in log if e["seq"] > limited[0]["seq"]]
    assert after, "nothing sent after the 429"
    gap = after[0]["ts"] - limited[0]["ts"]
    assert gap >= 2.9, "next request %.2f s after a 429 with Retry-After: 3" % gap
    print("429: next request after %.2f s;" % gap, verify_delivery(agent, sim))


def test_token_expiry_mid_drain(cl):
    _, sim, agent = station(cl, "token-expiry")
    outage_at_ion(sim)
    accept_backlog(agent, 60)
    sim.ctl("faults", "clear")
    # Mutations answered half a second late, so the tokens expire mid-drain, not after it (the
    # same race as in the revoked-key test below).
    sim.ctl("fault", "delay", "0.5", "--forever", "--mutations-only")
    wait_for(lambda: agent.counts()[DONE] >= 20, 120, "a part of the backlog delivered", 0.2)
    sim.ctl("expire-tokens")
    sim.ctl("faults", "clear")
    agent.wait_drained(120)
    log = sim.log()
    grants = [e for e in log if e["endpoint"] == "token" and e.get("auth") == "granted"]
    expired = [e for e in log if e.get("auth") == "expired"]
    assert len(grants) >= 2 and expired, (len(grants), len(expired))
    print("token expiry: %d grants, %d expired-token answers;" % (len(grants), len(expired)),
          verify_delivery(agent, sim))


def test_revoked_key_holds_everything_until_restored(cl):
    prof = rig.profile(rejected_retry_ms=3000)
    _, sim, agent = station(cl, "revoked", prof=prof)
    outage_at_ion(sim)
    accept_backlog(agent, 30)
    sim.ctl("faults", "clear")
    # Each mutation answered 1 s late, so the revoke lands while most of the backlog still
    # waits: unhindered, the agent drains the other 110 intents in well under a second, and
    # once (CI, schema v5) all of them before this test had seen the tenth one delivered.
    sim.ctl("fault", "delay", "1", "--forever", "--mutations-only")
    wait_for(lambda: agent.counts()[DONE] >= 10, 120, "a part of the backlog delivered", 0.1)
    sim.ctl("revoke", rig.CLIENT_ID)
    time.sleep(6)
    c = agent.counts()
    assert c[DEAD] == 0, "a revoked key must not dead-letter intents: %s" % c
    assert c[PENDING] > 0, c
    done_while_revoked = c[DONE]
    time.sleep(3)
    assert agent.counts()[DONE] == done_while_revoked, "delivered with a revoked key?"
    assert agent.alive()
    sim.ctl("restore", rig.CLIENT_ID)
    sim.ctl("faults", "clear")
    agent.wait_drained(120)
    rejected = [e for e in sim.log() if e["endpoint"] == "token" and e.get("auth") != "granted"]
    assert rejected, "the agent never asked for a token while revoked"
    print("revoked: %d refused token requests;" % len(rejected), verify_delivery(agent, sim))


# The network comes back: the agent's own link (not ION) goes down, the backoff grows to tens
# of seconds (retry_cap_ms 60000, the default 30 s link-down probe cap), scans are accepted
# meanwhile; when the link is up again the kernel's netlink message makes the agent probe at
# once (0-2 s jitter) instead of waiting out the backoff.

def last_retry_wait(agent):
    """The wait the dispatcher announced with its latest failure ("retry in 12.3 s")."""
    waits = re.findall(r"retry in ([0-9.]+) s", agent.stderr())
    return float(waits[-1]) if waits else 0.0


def link_down_then_up(cl, name, watch, min_wait=10.0):
    prof = rig.profile(retry_base_ms=500, retry_cap_ms=60000, watch_network=watch)
    ns, sim, agent = station(cl, name, netns=True, prof=prof)
    accept_backlog(agent, 1)  # a token in hand and the link known good
    agent.wait_drained(30)
    ns.agent_link("down")
    accept_backlog(agent, 5, first=1)
    wait_for(lambda: green_pulses(agent) >= 12, 10, "12 green pulses while the link is down")
    # Until one failure announced a long wait: without a watch, that is how long it would take.
    wait_for(lambda: last_retry_wait(agent) >= min_wait, 150, "a retry wait of %.0f s or more" % min_wait, 0.05)
    announced = time.monotonic()
    wait = last_retry_wait(agent)
    assert agent.counts()[PENDING] >= 20, agent.counts()
    ns.agent_link("up")
    t0 = time.monotonic()
    left = wait - (t0 - announced)  # until the next probe the backoff would make
    while True:
        c = agent.counts()
        if c[PENDING] == 0 and c[rig.IN_FLIGHT] == 0:
            break
        assert time.monotonic() - t0 < 120, "not drained 120 s after the link came back: %s" % c
        time.sleep(0.05)
    took = time.monotonic() - t0
    figures = verify_delivery(agent, sim)
    print("link up (%s watch): drained %d intents %.1f s after the link came back; the backoff had %.1f s left; %s"
          % ("with" if watch else "without", figures["intents"], took, left, figures))
    return agent, took, left


def test_link_back_up_probes_at_once(cl, need_root):
    agent, took, left = link_down_then_up(cl, "linkup", watch=True)
    assert "network changed: probing ION now" in agent.stderr(), agent.stderr()[-3000:]
    print("".join(l + "\n" for l in agent.stderr().splitlines() if "network changed" in l))
    assert took <= 5.0, "drained %.1f s after the link came back (the backoff had %.1f s left)" % (took, left)
    assert left > took + 3, "the backoff was not long enough to tell (%.1f s left)" % left
    # One forced probe per wakeup and per 2 s: the burst of link/address/route messages that
    # a link coming up sends does not turn into a burst of probes.
    assert agent.stderr().count("network changed: probing ION now") <= 3, agent.stderr()[-3000:]


def test_slow_link_back_up_without_the_watch_waits_out_the_backoff(cl, need_root):
    # The same with ion.watch_network off: the backlog waits for the next probe.
    agent, took, left = link_down_then_up(cl, "linkup-nowatch", watch=False)
    assert "network changed" not in agent.stderr()
    assert took >= min(left, 8.0) - 1.0, "drained %.1f s after the link came back, %.1f s left" % (took, left)


if __name__ == "__main__":
    pytest.main([__file__, "-v", "-s"])
