# SPDX-License-Identifier: Apache-2.0
"""The station survives the floor (issue 19): one daemon per state directory, writers that
coordinate with it, the station context across kill -9, nothing green that ION can never take,
and logs that carry no raw control bytes. Each scenario runs the real daemon against the
simulator (no namespaces needed).
"""
import json
import os
import signal
import subprocess
import time

from conftest import station
from rig import AGENT, CLIENT_ID, CLIENT_SECRET, DONE, profile, run, verify_delivery, wait_for

EXIT_LOCKED = 16  # firmware/commands.hpp kExitLocked


def test_second_daemon_is_refused_while_the_first_runs_and_allowed_after(cl):
    _, sim, agent = station(cl, "second-daemon")
    link = os.path.join(agent.dir, "state-link")
    os.symlink(agent.state, link)
    t0 = time.monotonic()
    second = run([AGENT, "run", "--config", agent.config, "--state-dir", link, "--sim",
                  os.path.join(agent.dir, "second.fifo")], check=False, timeout=20)
    took = time.monotonic() - t0
    assert second.returncode == EXIT_LOCKED, second.stderr
    assert "PID %d" % agent.proc.pid in second.stderr, second.stderr
    assert took < 5, "the second daemon took %.1f s to give up" % took
    # Writers coordinate: provision beside the daemon hands the credentials over and says so.
    api, tok = sim.info["api_url"], sim.info["token_url"]
    prov = run([AGENT, "provision", "--state-dir", agent.state, "--api-url", api, "--token-url", tok, "--ca-file",
                sim.info["ca"]], input="%s\n%s\n" % (CLIENT_ID, CLIENT_SECRET), check=False)
    assert prov.returncode == 0, prov.stdout + prov.stderr
    assert "running daemon (PID %d)" % agent.proc.pid in prov.stdout, prov.stdout
    # `queue retry` hands its change to the daemon: it runs (and fails only for the unknown
    # id), and the daemon's in-flight intents are not reset behind its back.
    q = run([AGENT, "queue", "--state-dir", agent.state, "retry", "999999"], check=False)
    assert q.returncode not in (0, EXIT_LOCKED), q.stdout + q.stderr
    assert "no intent" in q.stderr, q.stderr
    # The first one is unharmed and still delivers.
    agent.send(["scan SN-300001", "click pass"])
    agent.wait_accepted(4)
    agent.wait_drained(60)
    assert agent.alive()
    assert agent.stop() == 0
    # Allowed once the first has stopped (through the symlink too).
    agent.state_backup = agent.state
    agent.state = link
    agent.start()
    assert agent.alive(), agent.stderr()[-2000:]
    assert agent.stop() == 0
    verify_delivery(agent, sim)


def test_context_survives_kill_9_and_the_pass_after_it_is_green(cl):
    _, sim, agent = station(cl, "context-kill9")
    agent.send(["scan SN-310001"])
    agent.wait_accepted(3)  # unit.ensure, run.ensure, step IN_PROGRESS
    agent.kill()
    agent.start()
    assert "context: restored at start" in agent.stderr(), agent.stderr()[-2000:]
    st = run([AGENT, "status", "--state-dir", agent.state], check=False)
    assert "unit.serial=SN-310001" in st.stdout, st.stdout
    greens_before = agent.stdout().count("output green on")
    agent.send(["click pass"])
    agent.wait_accepted(4)
    wait_for(lambda: agent.stdout().count("output green on") > greens_before, 10, "green for PASS")
    assert "no_unit" not in agent.stderr()
    agent.wait_drained(60)
    assert agent.stop() == 0
    completed = [e for e in sim.log() if e.get("applied") and (e.get("root_fields") or [""])[0] == "updateRunStep"
                 and ((e.get("variables") or {}).get("input") or {}).get("status") == "COMPLETE"]
    assert len(completed) == 1, completed
    verify_delivery(agent, sim)


def test_stale_context_is_dropped_at_start_and_status_says_why(cl):
    prof = profile()
    prof["context"] = {"max_age_s": 1}
    _, sim, agent = station(cl, "context-stale", prof=prof)
    agent.send(["scan SN-320001"])
    agent.wait_accepted(3)
    assert agent.stop() == 0
    time.sleep(2.5)
    agent.start()
    assert "older than context.max_age_s (1 s)" in agent.stderr(), agent.stderr()[-2000:]
    wait_for(lambda: "dropped at start" in run([AGENT, "status", "--state-dir", agent.state], check=False).stdout,
             10, "status to say why the context was dropped")
    reds = agent.stdout().count("output red on")
    agent.send(["click pass"])
    wait_for(lambda: agent.stdout().count("output red on") > reds, 10, "red no_unit for PASS")
    assert agent.stop() == 0


def test_hostile_scans_are_red_at_accept_and_logged_escaped(cl):
    prof = profile()
    prof["rules"].insert(0, {"on": "scanner", "match": "^NOTE:(.*)$", "do": [{"intent": "issue.create", "text": "{match.1}"}]})
    prof["feedback"]["bad_scan"] = {"red": "pulse 50ms"}
    _, sim, agent = station(cl, "hostile", prof=prof)
    agent.send(["scan SN-330001"])
    agent.wait_accepted(3)
    reds = agent.stdout().count("output red on")
    # Invalid UTF-8 in a free-text note: red at once, never a dead letter later. An ESC
    # sequence: red too (a control character), and never raw in the log.
    agent.send([])
    agent.fifo_w.flush()
    agent.fifo_w.buffer.write(b"scan NOTE:bad \xff\xfe bytes\nscan NOTE:\x1b]0;owned\x07\x1b[2J\n")
    agent.fifo_w.buffer.flush()
    wait_for(lambda: agent.stdout().count("output red on") >= reds + 2, 10, "red for both hostile scans")
    agent.send(["scan NOTE:fine note"])
    agent.wait_accepted(4)
    agent.wait_drained(60)
    err = agent.stderr()
    assert "not valid UTF-8" in err, err[-2000:]
    assert "\x1b" not in err and "\\x1b]0;owned\\x07" in err, err[-2000:]
    assert "\ufffd" not in err  # the agent's stderr is read with errors="replace": no raw 0xff
    intents = agent.intents()
    assert all(i["state"] == DONE for i in intents), [(i["kind"], i["state"], i["last_error"]) for i in intents]
    assert [i["inputs"]["text"] for i in intents if i["kind"] == "issue.create"] == ["fine note"]
    assert agent.stop() == 0


def status_json(agent):
    r = run([AGENT, "status", "--state-dir", agent.state, "--json"], check=False)
    return json.loads(r.stdout)


def metrics(agent):
    return open(agent.metrics).read() if os.path.exists(agent.metrics) else ""


def test_credential_trouble_does_not_stop_acceptance(cl):
    _, sim, agent = station(cl, "creds", start=False)
    sealed = os.path.join(agent.state, "credentials.sealed")
    # Loose mode: the daemon starts anyway, says what fixes it, accepts and keeps events.
    os.chmod(sealed, 0o644)
    agent.start()
    assert agent.alive(), agent.stderr()[-2000:]
    assert "chmod 600" in agent.stderr() and "provision` first" not in agent.stderr(), agent.stderr()[-2000:]
    agent.send(["scan SN-340001", "click pass"])
    agent.wait_accepted(4)
    wait_for(lambda: agent.stdout().count("output green on") >= 2, 10, "green for both events")
    wait_for(lambda: status_json(agent)["daemon"].get("credentials", {}).get("failure") == "loose_mode", 10,
             "status to name the cause")
    wait_for(lambda: 'problem="loose_mode"} 0' in metrics(agent), 20, "the metric to name the cause")
    assert agent.counts()[DONE] == 0
    # Mended: picked up without a restart, and what was kept is delivered.
    pid = agent.proc.pid
    os.chmod(sealed, 0o600)
    agent.wait_drained(60)
    assert agent.proc.pid == pid and agent.alive()
    assert "the sealed credentials open now" in agent.stderr()
    wait_for(lambda: status_json(agent)["daemon"]["credentials"]["ok"] is True, 10, "status: credentials ok")
    assert agent.stop() == 0
    # Missing altogether (a new board): `provision` beside the running daemon hands them over.
    os.rename(sealed, sealed + ".away")
    agent.start()
    assert agent.alive(), agent.stderr()[-2000:]
    agent.send(["scan SN-340002", "click pass"])
    agent.wait_accepted(8)
    wait_for(lambda: status_json(agent)["daemon"].get("credentials", {}).get("failure") == "missing", 10,
             "status: not provisioned")
    agent.provision()
    agent.wait_drained(60)
    assert agent.alive()
    assert agent.stop() == 0
    verify_delivery(agent, sim)


def test_reload_restores_the_context_and_applies_the_new_max_age(cl):
    _, sim, agent = station(cl, "context-hup")
    agent.send(["scan SN-350001"])
    agent.wait_accepted(3)
    agent.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "context: restored at reload" in agent.stderr(), 10, "context restored at reload")
    prof = profile()
    prof["context"] = {"max_age_s": 1}
    agent.write_profile(prof)
    time.sleep(2.5)
    agent.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "dropped at reload" in agent.stderr(), 10, "context dropped at reload")
    wait_for(lambda: status_json(agent)["daemon"].get("context") == {}, 10, "status: no context")
    assert "dropped at reload" in status_json(agent)["daemon"]["context_note"]
    assert agent.stop() == 0
