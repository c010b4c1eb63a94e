# SPDX-License-Identifier: Apache-2.0
"""pytest fixtures for tests/faults: a cleanup list torn down after every test."""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import rig  # noqa: E402


@pytest.fixture
def cl():
    c = rig.Cleanup()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def need_root():
    if os.geteuid() != 0:
        pytest.fail("this suite needs root (network namespaces, nftables, mounts); CI runs as root")
    for tool in ("ip", "nft", "tc"):
        if shutil.which(tool) is None:
            pytest.fail("%s missing: run tests/install-deps.sh" % tool)


@pytest.fixture(autouse=True)
def need_agent():
    if not os.access(rig.AGENT, os.X_OK):
        pytest.fail("ion-agent not built at %s (set ION_AGENT_EXE)" % rig.AGENT)


def station(cl, name, netns=False, prof=None, sim_extra=(), start=True, state_dir=None):
    """A provisioned, running station against its own simulator (optionally in namespaces)."""
    wd = rig.new_workdir(cl, name)
    ns = rig.Netns(cl) if netns else None
    sim = rig.Sim(cl, wd, ns, sim_extra)
    agent = rig.Agent(cl, wd, sim, ns, prof, state_dir=state_dir)
    agent.provision()
    if start:
        agent.start()
    return ns, sim, agent
