# SPDX-License-Identifier: Apache-2.0
"""Test rig for the fault, crash, storm and secrets suites (tests/faults/).

Runs the real `ion-agent run --sim FIFO` daemon against the real ION simulator
(tests/ion-sim/ion-sim), optionally each in a network namespace of its own joined by a veth
pair (10.213.N.1 agent side, 10.213.N.2 simulator side) so nftables and tc can break the link.
Everything a test starts is registered with an ExitStack-like cleanup list and torn down on
every exit path (namespaces, mounts, processes), also when the test fails or is interrupted.

The check every scenario ends with, `verify_delivery()`, compares ION's final state and its
request log with the intents the agent accepted (its outbox): nothing lost, nothing doubled,
order kept per unit (the dispatcher's ordering contract: same subject strictly in order).
"""
import json
import os
import re
import random
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ION_BINARY_DIR", os.path.join(ROOT, "build"))
AGENT = os.environ.get("ION_AGENT_EXE", os.path.join(BUILD, "firmware", "ion-agent"))
SIM = os.path.join(ROOT, "tests", "ion-sim", "ion-sim")
SIMCTL = os.path.join(ROOT, "tests", "ion-sim", "simctl")
PY = "/usr/bin/python3"
CLIENT_ID = "ion-agent-demo"
CLIENT_SECRET = "demo-secret-0f3c9a1e7b2d4c58"

# Intent states in the outbox (agent/outbox.hpp IntentState).
PENDING, IN_FLIGHT, DONE, DEAD = 0, 1, 2, 3


def run(argv, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    r = subprocess.run(argv, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


def wait_for(pred, timeout, what, interval=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Cleanup:
    """LIFO list of cleanup callables; each runs even if an earlier one fails."""

    def __init__(self):
        self.fns = []

    def push(self, fn):
        self.fns.append(fn)

    def close(self):
        errors = []
        while self.fns:
            fn = self.fns.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - report, keep cleaning
                errors.append(e)
        if errors:
            raise errors[0]


class Netns:
    """Two namespaces (agent, sim) and a veth pair between them; all removed by close()."""

    def __init__(self, cleanup):
        tag = "%d%04d" % (os.getpid() % 100000, random.randrange(10000))
        self.agent_ns, self.sim_ns = "ionA" + tag, "ionS" + tag
        self.agent_if, self.sim_if = "va" + tag[-8:], "vs" + tag[-8:]
        n = random.randrange(0, 64) * 4
        self.agent_ip, self.sim_ip = "10.213.%d.%d" % (os.getpid() % 250, n + 1), "10.213.%d.%d" % (
            os.getpid() % 250, n + 2)
        for ns in (self.agent_ns, self.sim_ns):
            run(["ip", "netns", "add", ns])
            cleanup.push(lambda ns=ns: run(["ip", "netns", "del", ns], check=False))
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", self.agent_if, "netns", self.agent_ns, "type", "veth", "peer", "name",
             self.sim_if, "netns", self.sim_ns])
        run(["ip", "-n", self.agent_ns, "addr", "add", self.agent_ip + "/30", "dev", self.agent_if])
        run(["ip", "-n", self.sim_ns, "addr", "add", self.sim_ip + "/30", "dev", self.sim_if])
        run(["ip", "-n", self.agent_ns, "link", "set", self.agent_if, "up"])
        run(["ip", "-n", self.sim_ns, "link", "set", self.sim_if, "up"])
        # The sim side's filter table: rules are added and flushed by the scenarios.
        self.nft("add table inet fault\n"
                 "add chain inet fault input { type filter hook input priority 0; policy accept; }\n")

    def exec_prefix(self, ns):
        return ["ip", "netns", "exec", ns]

    def nft(self, ruleset):
        run(self.exec_prefix(self.sim_ns) + ["nft", "-f", "-"], input=ruleset)

    def cut(self, how="drop", port=None):
        """Packets from the agent to the simulator: drop | reset | a random share ("30%")."""
        match = "ip saddr %s tcp dport %s" % (self.agent_ip, port)
        if how == "drop":
            rule = match + " drop"
        elif how == "reset":
            rule = match + " reject with tcp reset"
        elif how.endswith("%"):
            rule = "ip saddr %s numgen random mod 100 < %d drop" % (self.agent_ip, int(how[:-1]))
        else:
            raise ValueError(how)
        self.nft("add rule inet fault input " + rule + "\n")

    def heal(self):
        self.nft("flush chain inet fault input\n")

    def agent_link(self, state):
        """The agent's veth "up" or "down" in its own namespace: the kernel drops its routes
        (connects fail at once, ENETUNREACH) and tells netlink listeners when it is back."""
        run(["ip", "-n", self.agent_ns, "link", "set", "dev", self.agent_if, state])

    def throttle(self, rate="256kbit"):
        for ns, dev in ((self.agent_ns, self.agent_if), (self.sim_ns, self.sim_if)):
            run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate,
                 "burst", "16kb", "latency", "400ms"])


class Sim:
    def __init__(self, cleanup, workdir, netns=None, extra=()):
        self.netns = netns
        self.ready = os.path.join(workdir, "sim.json")
        self.log_path = os.path.join(workdir, "sim.log")
        argv = [PY, SIM, "--port", "0", "--ready-file", self.ready, "--state-dir", os.path.join(workdir, "sim-state")]
        if netns:
            argv = netns.exec_prefix(netns.sim_ns) + argv + ["--bind", netns.sim_ip]
        argv += list(extra)
        self.proc = subprocess.Popen(argv, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        cleanup.push(self.stop)
        wait_for(lambda: os.path.exists(self.ready) or self.proc.poll() is not None, 30, "ion-sim ready")
        if self.proc.poll() is not None:
            raise RuntimeError("ion-sim exited: " + open(self.log_path).read())
        self.info = json.load(open(self.ready))
        self.port = self.info["port"]

    def ctl(self, *args):
        argv = [PY, SIMCTL, "--ready-file", self.ready] + list(args)
        if self.netns:
            argv = self.netns.exec_prefix(self.netns.sim_ns) + argv
        return run(argv).stdout

    def state(self):
        return json.loads(self.ctl("state"))

    def log(self):
        return json.loads(self.ctl("log"))["entries"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def profile(**ion):
    """The fault station: the assembly flow of firmware/profiles/assembly-station.json with
    simulated inputs. A scan of SN-nnnnnn gives unit.ensure, run.ensure, step.status
    IN_PROGRESS; a press of `pass` gives step.status COMPLETE (4 intents per unit)."""
    ion_settings = {"connect_timeout_ms": 2000, "timeout_ms": 4000, "retry_base_ms": 100, "retry_cap_ms": 2000}
    ion_settings.update(ion)
    part = {"partNumber": "ASM-100"}
    return {
        "station": "fault-bench",
        "ion": ion_settings,
        "inputs": {"scanner": {"type": "sim"}, "pass": {"type": "sim"}},
        "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
        "rules": [
            {"on": "scanner", "match": "^SN-[0-9]{6}$", "do": [
                {"set": "unit.serial", "to": "{scan}"},
                dict({"intent": "unit.ensure"}, **part),
                dict({"intent": "run.ensure", "procedureId": "12"}, **part),
                dict({"intent": "step.status", "status": "IN_PROGRESS", "procedureId": "12"}, **part)]},
            {"on": "pass", "event": "press", "do": [
                dict({"intent": "step.status", "status": "COMPLETE", "procedureId": "12"}, **part)]},
        ],
        "feedback": {"accepted": {"green": "pulse 50ms"}},
        "logging": {"level": "info"},
    }


class Agent:
    """One station: a state dir provisioned for `sim`, a FIFO for inputs, the daemon."""

    def __init__(self, cleanup, workdir, sim, netns=None, prof=None, state_dir=None):
        self.cleanup, self.sim, self.netns = cleanup, sim, netns
        self.dir = workdir
        self.state = state_dir or os.path.join(workdir, "state")
        os.makedirs(self.state, exist_ok=True)
        self.fifo = os.path.join(workdir, "inputs.fifo")
        self.config = os.path.join(workdir, "profile.json")
        self.out_path = os.path.join(workdir, "agent.out")
        self.err_path = os.path.join(workdir, "agent.err")
        self.metrics = os.path.join(workdir, "metrics.prom")
        self.write_profile(prof or profile())
        self.proc = None
        self.fifo_w = None
        self.starts = 0
        cleanup.push(self.kill)

    def write_profile(self, prof):
        with open(self.config, "w") as f:
            json.dump(prof, f)

    def prefix(self):
        return self.netns.exec_prefix(self.netns.agent_ns) if self.netns else []

    def provision(self, extra=(), more_input="", env=None):
        """extra: more provision options (e.g. a key provider); more_input: stdin after the secret."""
        api, tok = self.sim.info["api_url"], self.sim.info["token_url"]
        r = run(self.prefix() + [AGENT, "provision", "--state-dir", self.state, "--api-url", api, "--token-url", tok,
                                 "--ca-file", self.sim.info["ca"]] + list(extra),
                input="%s\n%s\n%s" % (CLIENT_ID, CLIENT_SECRET, more_input), check=False, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        return r

    def start(self, wrapper=(), env=None, wait_ready=True, extra=()):
        ready_before = self.stderr().count("station: running")
        argv = self.prefix() + list(wrapper) + [AGENT, "run", "--config", self.config, "--state-dir", self.state,
                                                "--sim", self.fifo, "--metrics", self.metrics, "--drain-ms", "2000"]
        argv += list(extra)
        self.proc = subprocess.Popen(argv, stdout=open(self.out_path, "a"), stderr=open(self.err_path, "a"),
                                     stdin=subprocess.DEVNULL, env=env)
        self.starts += 1
        if wait_ready:
            # "station: running" is logged once signals are routed to the loop (a SIGTERM
            # before that kills the process by default, which is harmless but not a clean stop).
            wait_for(lambda: self.stderr().count("station: running") > ready_before or self.proc.poll() is not None,
                     20, "agent ready")
        else:
            wait_for(lambda: os.path.exists(self.fifo) or self.proc.poll() is not None, 20, "agent FIFO")
        return self.proc

    def send(self, lines):
        """Writes input lines to the FIFO (blocks while the agent is not reading: back-pressure)."""
        if self.fifo_w is None:
            self.fifo_w = open(self.fifo, "w")
        self.fifo_w.write("".join(l + "\n" for l in lines))
        self.fifo_w.flush()

    def close_fifo(self):
        if self.fifo_w is not None:
            try:
                self.fifo_w.close()
            except BrokenPipeError:
                pass
            self.fifo_w = None

    def stop(self, timeout=15):
        self.close_fifo()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        if self.proc and self.proc.returncode != 0:
            print("agent exit status %s; stderr tail:\n%s" % (self.proc.returncode, self.stderr()[-3000:]))
        return self.proc.returncode if self.proc else None

    def kill(self):
        self.close_fifo()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        return open(self.err_path, errors="replace").read() if os.path.exists(self.err_path) else ""

    def stdout(self):
        return open(self.out_path, errors="replace").read() if os.path.exists(self.out_path) else ""

    def db_path(self):
        return os.path.join(self.state, "outbox.db")

    def intents(self):
        """Every intent in the outbox, in acceptance order: (seq, uuid, kind, inputs, subject, state)."""
        if not os.path.exists(self.db_path()):
            return []
        db = sqlite3.connect(self.db_path(), timeout=10)
        try:
            rows = db.execute("SELECT seq, uuid, kind, inputs, subject, state, last_error FROM intents "
                              "ORDER BY seq").fetchall()
        finally:
            db.close()
        return [dict(seq=r[0], uuid=r[1], kind=r[2], inputs=json.loads(r[3]), subject=r[4], state=r[5],
                     last_error=r[6]) for r in rows]

    def counts(self):
        c = {PENDING: 0, IN_FLIGHT: 0, DONE: 0, DEAD: 0}
        for i in self.intents():
            c[i["state"]] += 1
        return c

    def wait_accepted(self, n, timeout=120):
        wait_for(lambda: len(self.intents()) >= n or not self.alive(), timeout, "%d accepted intents" % n, 0.25)
        assert len(self.intents()) >= n, "agent died: " + self.stderr()[-3000:]

    def wait_drained(self, timeout=300):
        def drained():
            c = self.counts()
            return c[PENDING] == 0 and c[IN_FLIGHT] == 0

        wait_for(drained, timeout, "the outbox to drain (%s)" % (lambda: self.counts())(), 0.5)


def unit_lines(first, count):
    """Input lines for `count` units: scan its serial, then press pass (4 intents each)."""
    lines = []
    for i in range(first, first + count):
        lines += ["scan SN-%06d" % (200000 + i), "click pass"]
    return lines



def operations_in(entry):
    """How many clients' requests a logged request carried: the members of a batch (aliases
    `b<n>_...`), else 1."""
    members = {k.split("_", 1)[0] for k in entry.get("root_keys") or [] if re.match(r"b[0-9]+_", k)}
    return len(members) or 1


def applied_mutations(log):
    """(entry, root field, input variables) of every applied mutation in the simulator's log,
    in ION's order. A batched request (aliases `b<n>_<field>`, variables `$b<n>_input`)
    yields each of its fields that took effect, in document order (the order ION ran them)."""
    for e in log:
        if not e.get("applied"):
            continue
        variables = e.get("variables") or {}
        keys = e.get("root_keys")
        if keys is None:
            yield e, (e.get("root_fields") or [""])[0], variables.get("input") or {}
            continue
        took = set(e.get("applied_keys") or [])
        for key, field in zip(keys, e.get("root_fields") or []):
            if key in took and key.endswith(field):
                yield e, field, variables.get(key[:len(key) - len(field)] + "input") or {}

def verify_delivery(agent, sim, allow_pending=False):
    """ION's state and request log against the outbox: returns a dict of figures, asserts."""
    intents = agent.intents()
    assert intents, "no intents accepted"
    states = {}
    for i in intents:
        states[i["state"]] = states.get(i["state"], 0) + 1
    dead = [i for i in intents if i["state"] == DEAD]
    assert not dead, "dead letters: %s" % [(d["seq"], d["kind"], d["last_error"]) for d in dead[:5]]
    if not allow_pending:
        assert states.get(PENDING, 0) == 0 and states.get(IN_FLIGHT, 0) == 0, states

    st = sim.state()
    by_serial = {}
    for inv in st["part_inventories"]:
        if inv.get("serialNumber"):
            by_serial.setdefault(inv["serialNumber"], []).append(inv)
    runs_by_unit = {}
    for r in st["runs"]:
        runs_by_unit.setdefault(r["partInventoryId"], []).append(r)
    steps = {s["id"]: s for s in st["run_steps"]}

    # Expected per unit, in acceptance order: the statuses its first step went through.
    expected = {}
    unit_order = []
    for i in intents:
        serial = i["inputs"].get("serial") or i["subject"]
        if i["kind"] == "unit.ensure":
            unit_order.append(serial)
        expected.setdefault(serial, []).append(
            i["kind"] + (":" + i["inputs"]["status"] if i["kind"] == "step.status" else ""))
    unit_of_run, serial_of_unit = {}, {}
    for serial, kinds in expected.items():
        units = by_serial.get(serial, [])
        assert len(units) == 1, "unit %s: %d part inventories at ION (lost or doubled)" % (serial, len(units))
        uid = units[0]["id"]
        serial_of_unit[uid] = serial
        runs = [r for r in runs_by_unit.get(uid, []) if r["procedureId"] == 12]
        want_runs = 1 if "run.ensure" in kinds else 0
        assert len(runs) == want_runs, "unit %s: %d runs of procedure 12 at ION" % (serial, len(runs))
        for r in runs:
            unit_of_run[r["id"]] = serial
        if runs:
            first = min((steps[s] for s in runs[0]["steps"]), key=lambda s: s["position"]) if runs[0].get(
                "steps") else None
            if first is not None:
                want = "COMPLETE" if "step.status:COMPLETE" in kinds else "IN_PROGRESS"
                assert first["status"] == want, "unit %s: first step %s, expected %s" % (serial, first["status"], want)

    # The applied mutations, per unit, in ION's order: each exactly once and in acceptance order.
    run_of_step = {s["id"]: s["runId"] for s in st["run_steps"]}
    seen = {}
    created_order = []
    for e, root, v in applied_mutations(sim.log()):
        if root == "createPartInventory":
            serial, op = v.get("serialNumber"), "unit.ensure"
            created_order.append(serial)
        elif root == "createRun":
            serial, op = serial_of_unit.get(int(v.get("partInventoryId", 0))), "run.ensure"
        elif root == "updateRunStep":
            serial, op = unit_of_run.get(run_of_step.get(int(v.get("id", 0)))), "step.status:" + str(v.get("status"))
        else:
            continue
        if serial in expected:
            seen.setdefault(serial, []).append(op)
    for serial, kinds in expected.items():
        got = seen.get(serial, [])
        # A step.status IN_PROGRESS is skipped at ION when the step already is (idempotent),
        # and COMPLETE of a TODO step starts it first: compare the distinct effects in order.
        want = [k for k in kinds]
        assert got == want, "unit %s: ION applied %s, accepted %s" % (serial, got, want)
    # Across units the dispatcher runs up to max_in_flight subjects at once: report how far
    # ION's creation order strays from acceptance order.
    pos = {s: n for n, s in enumerate(unit_order)}
    displacement = max([abs(pos[s] - n) for n, s in enumerate(created_order) if s in pos] or [0])
    return {"intents": len(intents), "units": len(unit_order), "max_displacement": displacement}


class Swtpm:
    """A software TPM 2.0 (swtpm socket mode, loopback, fresh state) for the tpm2 key provider."""

    def __init__(self, cleanup, workdir):
        state = os.path.join(workdir, "swtpm")
        os.makedirs(state, exist_ok=True)
        for _ in range(8):
            port = random.randint(20000, 59998)
            self.proc = subprocess.Popen(["swtpm", "socket", "--tpm2",
                                          "--server", "type=tcp,port=%d,bindaddr=127.0.0.1" % port,
                                          "--ctrl", "type=tcp,port=%d,bindaddr=127.0.0.1" % (port + 1),
                                          "--tpmstate", "dir=" + state, "--flags", "not-need-init,startup-clear"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cleanup.push(lambda p=self.proc: (p.poll() is None and p.terminate(), p.wait()))
            deadline = time.time() + 10
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    self.tcti = "swtpm:host=127.0.0.1,port=%d" % port
                    return
                except OSError:
                    time.sleep(0.05)
        raise AssertionError("swtpm did not start")


class SoftHsm:
    """A SoftHSM2 token store of its own with one token (label `ion-agent`) for the pkcs11 provider."""
    PIN = "7351-hygiene-pin"

    def __init__(self, workdir):
        d = os.path.join(workdir, "softhsm")
        os.makedirs(os.path.join(d, "tokens"), exist_ok=True)
        self.conf = os.path.join(d, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n" % d)
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        # Test-only PINs on softhsm2-util's command line; ion-agent never takes one there.
        run(["softhsm2-util", "--init-token", "--free", "--label", "ion-agent", "--pin", self.PIN,
             "--so-pin", "0000-so"], env=self.env)
        self.pin_file = os.path.join(d, "user.pin")
        with open(self.pin_file, "w") as f:
            f.write(self.PIN + "\n")
        os.chmod(self.pin_file, 0o600)
        self.module = next(m for m in ("/usr/lib/softhsm/libsofthsm2.so",
                                       "/usr/lib/%s/softhsm/libsofthsm2.so" % os.uname().machine + "-linux-gnu")
                           if os.path.exists(m))


def new_workdir(cleanup, name):
    d = tempfile.mkdtemp(prefix="ion-faults-%s-" % name)
    cleanup.push(lambda: run(["rm", "-rf", d], check=False))
    return d
