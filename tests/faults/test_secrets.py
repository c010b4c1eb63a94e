# SPDX-License-Identifier: Apache-2.0
"""Secrets hygiene of the running daemon.

The client secret and any access token (a JWT, "eyJ...") must not appear in the logs at debug
level, in /proc/PID/cmdline or /proc/PID/environ, in the outbox database (and its WAL), in
status.json or in the metrics file - after a drain that renewed its token several times and
went through a 401. The process must be non-dumpable: run as an unprivileged user, its
/proc/PID files belong to root (the kernel's mark of a non-dumpable process), and a SIGABRT
with an unlimited core size leaves no core file where a dumpable process of the same user does.
With the hardware-bound key providers (tpm2 against swtpm, pkcs11 against SoftHSM2) the same
holds, no device.key stays on disk, and the token PIN is in no file, log, argv or environment.
"""
import os
import pwd
import re
import signal
import subprocess
import time

import pytest

import rig
from conftest import station
from rig import wait_for

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
SECRET = rig.CLIENT_SECRET.encode()


def leaks(blob):
    found = []
    if SECRET in blob:
        found.append("client secret")
    if JWT.search(blob):
        found.append("access token")
    return found


def files_to_check(agent):
    paths = [agent.err_path, agent.out_path, agent.metrics, os.path.join(agent.state, "status.json")]
    paths += [os.path.join(agent.state, p) for p in os.listdir(agent.state) if p.startswith("outbox.db")]
    return [p for p in paths if os.path.exists(p)]


def test_secret_and_tokens_never_leave_memory(cl):
    prof = rig.profile()
    prof["logging"] = {"level": "debug"}
    prof["metrics"] = {"interval_s": 1}
    _, sim, agent = station(cl, "secrets", prof=prof, sim_extra=("--token-ttl", "3"))
    agent.send(rig.unit_lines(0, 5))
    agent.wait_accepted(20)
    agent.wait_drained(60)
    sim.ctl("expire-tokens")  # the next request gets a 401 and a renewal
    agent.send(rig.unit_lines(5, 5))
    agent.wait_accepted(40)
    agent.wait_drained(60)
    time.sleep(4)  # past one token lifetime: the idle agent lets it lapse ...
    agent.send(rig.unit_lines(10, 5))  # ... and fetches a fresh one for these
    agent.wait_accepted(60)
    agent.wait_drained(60)
    wait_for(lambda: os.path.exists(agent.metrics), 10, "the metrics file")
    grants = [e for e in sim.log() if e["endpoint"] == "token" and e.get("auth") == "granted"]
    assert len(grants) >= 3, "the agent should have fetched several tokens: %d" % len(grants)
    pid = agent.proc.pid
    for name in ("cmdline", "environ"):
        blob = open("/proc/%d/%s" % (pid, name), "rb").read()
        assert not leaks(blob), "/proc/PID/%s: %s" % (name, leaks(blob))
    checked = files_to_check(agent)
    assert any(p.endswith("outbox.db") for p in checked) and agent.metrics in checked, checked
    for p in checked:
        found = leaks(open(p, "rb").read())
        assert not found, "%s contains the %s" % (p, " and ".join(found))
    assert "debug" in agent.stderr() or "<7>" in agent.stderr(), "debug logging was not on"
    assert agent.stop() == 0
    print("secrets: %d tokens issued; checked %s" % (len(grants), [os.path.basename(p) for p in checked]))


@pytest.mark.parametrize("provider", ["tpm2", "pkcs11"])
def test_hardware_key_providers_keep_secrets_in_memory(cl, provider):
    prof = rig.profile()
    prof["logging"] = {"level": "debug"}
    _, sim, agent = station(cl, "secrets-" + provider, prof=prof, start=False)
    secrets = [SECRET]
    if provider == "tpm2":
        tpm = rig.Swtpm(cl, agent.dir)
        env, run_extra = None, ["--tcti", tpm.tcti]
        r = agent.provision(["--key-provider", "tpm2", "--tcti", tpm.tcti, "--pcrs", "7"])
        expect = "TPM 2.0"
    else:
        hsm = rig.SoftHsm(agent.dir)
        env, run_extra = hsm.env, []
        uri = "pkcs11:token=ion-agent;object=hygiene?pin-source=file:" + hsm.pin_file
        # Provisioned once with the PIN typed on stdin (after the secret), then with a pin-source
        # so the daemon needs no terminal.
        agent.provision(["--key-provider", "pkcs11", "--pkcs11-uri", "pkcs11:token=ion-agent;object=hygiene",
                         "--pkcs11-module", hsm.module], more_input=hsm.PIN + "\n", env=env)
        r = agent.provision(["--key-provider", "pkcs11", "--pkcs11-uri", uri, "--pkcs11-module", hsm.module], env=env)
        secrets.append(hsm.PIN.encode())
        expect = "PKCS#11"
    assert expect in r.stdout, r.stdout
    for out in (r.stdout, r.stderr):
        assert not [s for s in secrets if s in out.encode()], out
    assert not os.path.exists(os.path.join(agent.state, "device.key")), os.listdir(agent.state)
    agent.start(env=env, extra=run_extra)
    agent.send(rig.unit_lines(0, 5))
    agent.wait_accepted(20)
    agent.wait_drained(60)
    assert "key protected by " + expect in agent.stderr(), agent.stderr()[-2000:]
    pid = agent.proc.pid
    for name in ("cmdline", "environ"):
        blob = open("/proc/%d/%s" % (pid, name), "rb").read()
        found = leaks(blob) + [s.decode() for s in secrets[1:] if s in blob]
        assert not found, "/proc/PID/%s: %s" % (name, found)
    checked = files_to_check(agent) + [os.path.join(agent.state, p) for p in os.listdir(agent.state)
                                       if not p.startswith("outbox.db")]
    for p in sorted(set(checked)):
        blob = open(p, "rb").read()
        found = leaks(blob) + ["token PIN" for s in secrets[1:] if s in blob]
        assert not found, "%s contains the %s" % (p, " and ".join(found))
    assert agent.stop() == 0
    print("secrets[%s]: checked %s" % (provider, sorted(os.path.basename(p) for p in set(checked))))


def test_process_is_not_dumpable(cl):
    if open("/proc/sys/kernel/core_pattern").read().startswith("|"):
        pytest.skip("core_pattern pipes to a handler here; core files cannot be observed")
    user = "nobody"
    uid = pwd.getpwnam(user).pw_uid
    _, sim, agent = station(cl, "dumpable", start=False)
    # The service user owns its state; the test CA must be readable by it.
    rig.run(["chown", "-R", user, agent.state, agent.dir])
    rig.run(["chmod", "-R", "a+rX", os.path.join(os.path.dirname(sim.ready), "sim-state")])
    os.chmod(agent.dir, 0o777)
    cwd = os.path.join(agent.dir, "cores")
    os.makedirs(cwd)
    os.chmod(cwd, 0o777)
    argv = [rig.AGENT, "run", "--config", agent.config, "--state-dir", agent.state, "--sim", agent.fifo]
    p = subprocess.Popen(["setpriv", "--reuid", str(uid), "--regid", str(pwd.getpwnam(user).pw_gid), "--clear-groups",
                          "prlimit", "--core=unlimited"] + argv, cwd=cwd,
                         stdout=open(agent.out_path, "w"), stderr=open(agent.err_path, "w"))
    cl.push(lambda: (p.poll() is None and p.kill(), p.wait()))
    wait_for(lambda: os.path.exists(agent.fifo) or p.poll() is not None, 20, "agent start")
    assert p.poll() is None, agent.stderr()
    # prlimit execs the agent: the pid is the agent's.
    wait_for(lambda: os.path.basename(os.readlink("/proc/%d/exe" % p.pid)) == "ion-agent", 5, "exec")
    st = os.stat("/proc/%d/environ" % p.pid)
    assert open("/proc/%d/status" % p.pid).read().count("\nUid:\t%d" % uid) == 1
    assert st.st_uid == 0, "/proc/PID/environ owned by uid %d: the process is dumpable" % st.st_uid
    os.kill(p.pid, signal.SIGABRT)
    p.wait(10)
    assert p.returncode == -signal.SIGABRT, p.returncode
    cores = [f for f in os.listdir(cwd) if f.startswith("core")]
    assert not cores, "core dump written: %s" % cores
    # Control: a dumpable process of the same user in the same place does leave a core, so
    # the check above could have failed.
    c = subprocess.Popen(["setpriv", "--reuid", str(uid), "--regid", str(pwd.getpwnam(user).pw_gid), "--clear-groups",
                          "prlimit", "--core=unlimited", "sleep", "30"], cwd=cwd)
    time.sleep(0.3)
    os.kill(c.pid, signal.SIGABRT)
    c.wait(10)
    time.sleep(0.3)
    control = [f for f in os.listdir(cwd) if f.startswith("core")]
    for f in control:
        os.unlink(os.path.join(cwd, f))
    if not control:
        pytest.skip("this kernel wrote no core even for a dumpable process; ownership check passed")
