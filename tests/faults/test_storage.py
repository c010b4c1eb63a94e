# SPDX-License-Identifier: Apache-2.0
"""Storage faults: a full disk (tmpfs), ENOSPC/EIO/EROFS from pwrite/fsync/fdatasync (libfiu),
and a corrupted outbox.

The rule in every case: an event lights green only if its intents are durable; otherwise it
lights red and nothing of it is kept (a scan's intents are one transaction), the daemon keeps
running, and once storage is back it accepts again and delivers everything it accepted.
ION is held in an outage (503) while faults are injected, so the outbox keeps growing.
"""
import hashlib
import os
import re
import subprocess
import time

import pytest

import rig
from conftest import station
from rig import verify_delivery, wait_for

PROFILE = rig.profile()
PROFILE["feedback"]["storage_error"] = {"red": "pulse 50ms"}
PROFILE["feedback"]["queue_full"] = {"red": "pulse 50ms"}


def scans(first, count):
    return ["SN-%06d" % (300000 + i) for i in range(first, first + count)]


def verdicts(agent):
    """serial -> True (accepted) / False (refused) from the daemon's per-event log lines."""
    out = {}
    for m in re.finditer(r'station: scan "(SN-\d+)": (.*)', agent.stderr()):
        out[m.group(1)] = "accepted" in m.group(2) and "not accepted" not in m.group(2)
    return out


def outbox_serials(agent):
    by = {}
    for i in agent.intents():
        by.setdefault(i["inputs"].get("serial"), []).append(i["kind"])
    return by


def assert_green_iff_durable(agent, sent):
    v = verdicts(agent)
    missing = [s for s in sent if s not in v]
    assert not missing, "events never answered (lost silently): %s" % missing[:5]
    stored = outbox_serials(agent)
    for serial in sent:
        kinds = stored.get(serial, [])
        if v[serial]:
            assert kinds == ["unit.ensure", "run.ensure", "step.status"], (serial, kinds)
        else:
            assert kinds == [], "refused (red) but stored: %s %s" % (serial, kinds)
    return sum(1 for s in sent if v[s]), sum(1 for s in sent if not v[s])


def mount_tmpfs(cl, path, size):
    os.makedirs(path, exist_ok=True)
    rig.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path])
    cl.push(lambda: rig.run(["umount", "-l", path], check=False))


def send_and_wait(agent, wanted, timeout=60):
    agent.send(["scan " + s for s in wanted])
    wait_for(lambda: all(s in verdicts(agent) for s in wanted) or not agent.alive(), timeout,
             "a verdict for every scan")
    assert agent.alive(), agent.stderr()[-2000:]


def finish(agent, sim, sent):
    accepted, refused = assert_green_iff_durable(agent, sent)
    sim.ctl("faults", "clear")
    agent.wait_drained(120)
    figures = verify_delivery(agent, sim)
    return accepted, refused, figures


def test_disk_full_refuses_with_red_and_recovers(cl, need_root):
    wd = rig.new_workdir(cl, "diskfull")
    state = os.path.join(wd, "state")
    mount_tmpfs(cl, state, "4m")
    _, sim, agent = station(cl, "diskfull-st", prof=PROFILE, start=False, state_dir=state)
    sim.ctl("fault", "status", "503", "--forever", "--match", "any")
    agent.start()
    sent = scans(0, 20)
    send_and_wait(agent, sent)
    filler = os.path.join(state, "filler")
    subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=64k"], stderr=subprocess.DEVNULL)
    full = scans(20, 40)
    send_and_wait(agent, full)
    sent += full
    refused = [s for s in full if not verdicts(agent)[s]]
    assert refused, "nothing was refused on a full disk?"
    assert agent.stdout().count("output red on") >= len(refused)
    os.unlink(filler)
    after = scans(60, 20)
    send_and_wait(agent, after)
    sent += after
    assert all(verdicts(agent)[s] for s in after), "not accepting again once space was back"
    accepted, refused_n, figures = finish(agent, sim, sent)
    print("disk full: %d accepted, %d refused with red; %s" % (accepted, refused_n, figures))


def fiu(agent, cmd):
    rig.run(["fiu-ctrl", "-f", os.path.join(agent.dir, "fiu"), "-c", cmd, str(agent.proc.pid)])


# EROFS on every write is the read-only remount: the kernel refuses `mount -o remount,ro` while
# the outbox is open for writing (busy), so a filesystem that goes read-only under the daemon
# (ext4 errors=remount-ro on a failing SD card) is reproduced by failing every write with EROFS.
@pytest.mark.parametrize("errno_name,errno_value,probability", [("ENOSPC", 28, 0.3), ("EIO", 5, 0.3),
                                                                ("EROFS", 30, 1.0)])
def test_write_and_sync_errors_with_libfiu(cl, errno_name, errno_value, probability):
    _, sim, agent = station(cl, "fiu-" + errno_name, prof=PROFILE, start=False)
    sim.ctl("fault", "status", "503", "--forever", "--match", "any")
    agent.start(wrapper=["fiu-run", "-x", "-f", os.path.join(agent.dir, "fiu")])
    sent = scans(0, 10)
    send_and_wait(agent, sent)
    points = ["posix/io/rw/pwrite", "posix/io/sync/fsync", "posix/io/sync/fdatasync"]
    for p in points:
        fiu(agent, "enable_random name=%s,probability=%s,failinfo=%d" % (p, probability, errno_value))
    faulty = scans(10, 60)
    send_and_wait(agent, faulty)
    sent += faulty
    for p in points:
        fiu(agent, "disable name=%s" % p)
    v = verdicts(agent)
    assert any(not v[s] for s in faulty), "no event was refused under injected %s" % errno_name
    # Storage is back: accepted again, without a restart.
    healed = scans(70, 10)
    send_and_wait(agent, healed)
    sent += healed
    assert all(verdicts(agent)[s] for s in healed), "still refusing after the faults ended"
    # A crash and restart replay the WAL: what was refused must not come back, what was
    # accepted must. (SIGKILL: libfiu's control thread does not block SIGTERM.)
    agent.kill()
    agent.start()
    after = scans(80, 10)
    send_and_wait(agent, after)
    sent += after
    accepted, refused, figures = finish(agent, sim, sent)
    print("libfiu %s: %d accepted, %d refused; %s" % (errno_name, accepted, refused, figures))


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize("where", ["header", "table-page"])
def test_corrupted_database_is_kept_and_reported(cl, where):
    _, sim, agent = station(cl, "corrupt-" + where, prof=PROFILE, start=False)
    sim.ctl("fault", "status", "503", "--forever", "--match", "any")
    agent.start()
    send_and_wait(agent, scans(0, 30))
    assert agent.stop() == 0
    db = agent.db_path()
    size = os.path.getsize(db)
    with open(db, "r+b") as f:
        if where == "header":
            f.seek(0)
            f.write(b"\xa5" * 100)
        else:
            assert size >= 3 * 4096, size
            f.seek(size - 4096)  # a leaf page of the intents table
            f.write(b"\xa5" * 4096)
    before = sha(db)
    agent.start()
    wait_for(lambda: not agent.alive(), 15, "the agent to refuse the corrupted outbox")
    err = agent.stderr()
    assert agent.proc.returncode != 0, "started on a corrupted outbox"
    assert re.search(r"corrupt|not a database|malformed", err, re.I), err[-2000:]
    # Kept for inspection, byte for byte, and named in the message.
    kept = [p for p in os.listdir(agent.state) if p.startswith("outbox.db")]
    assert any(sha(os.path.join(agent.state, p)) == before for p in kept), kept
    assert "outbox.db" in err
    # And never silently started empty: no new, empty outbox took its place.
    if os.path.exists(db) and sha(db) != before:
        pytest.fail("a new outbox.db replaced the corrupted one")
