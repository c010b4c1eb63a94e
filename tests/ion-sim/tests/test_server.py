# SPDX-License-Identifier: Apache-2.0
"""Process interface: ready file, TLS with the test CA, --http, --bind, SIGTERM, restarts,
keep-alive, and the README's curl walkthrough run as written."""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

import pytest

from conftest import SIM_DIR

REPO = os.path.dirname(os.path.dirname(SIM_DIR))


def test_ready_file_describes_an_https_endpoint_signed_by_the_test_ca(sim):
    r = sim.ready
    assert set(["port", "ca", "api_url", "token_url"]) <= set(r)
    assert r["api_url"] == "https://127.0.0.1:%d" % r["port"]
    assert r["token_url"] == r["api_url"] + "/realms/api-keys/protocol/openid-connect/token"
    for host in ("127.0.0.1", "localhost"):
        ctx = ssl.create_default_context(cafile=r["ca"])
        with socket.create_connection(("127.0.0.1", r["port"]), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_untrusted_client_fails_the_handshake(sim):
    ctx = ssl.create_default_context()  # system CAs only
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    assert sim.gql("{ me { id } }")[0] == 200  # and the server is still serving


def test_keep_alive_serves_many_requests_on_one_connection(sim):
    conn = sim.connect()
    token = sim.token()
    for _ in range(5):
        assert sim.gql("{ me { id } }", token=token, conn=conn)[0] == 200
    conn.close()


def test_plain_http_when_asked(start_sim):
    s = start_sim("--http")
    assert s.ready["ca"] is None and s.ready["api_url"].startswith("http://")
    assert s.ok("{ me { id } }")["me"]["id"] == 42


def test_bind_address_is_used_and_in_the_certificate(start_sim):
    s = start_sim("--bind", "127.0.0.2")
    assert s.ready["api_url"] == "https://127.0.0.2:%d" % s.port
    assert s.ok("{ me { id } }")["me"]["id"] == 42  # verifies the cert for IP 127.0.0.2


def test_sigterm_stops_cleanly_and_removes_the_ready_file(start_sim):
    s = start_sim()
    idle = s.connect()  # an idle keep-alive connection must not hold the exit up
    assert s.gql("{ me { id } }", conn=idle)[0] == 200
    assert s.stop(signal.SIGTERM) == 0
    idle.close()
    assert not os.path.exists(s.ready_path)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_restart_with_state_dir_keeps_ca_and_tokens(start_sim):
    state = tempfile.mkdtemp(prefix="ion-sim-state-")
    try:
        port = str(_free_port())
        first = start_sim("--state-dir", state, "--port", port)
        token = first.token()
        with open(first.ready["ca"]) as f:
            ca = f.read()
        first.stop()
        second = start_sim("--state-dir", state, "--port", port)
        with open(second.ready["ca"]) as f:
            assert f.read() == ca
        assert second.ok("{ me { id } }", token=token)["me"]["id"] == 42
        second.stop()
        # Same key but another port is another issuer: ION's "wrong environment" answer.
        third = start_sim("--state-dir", state)
        status, body = third.gql("{ me { id } }", token=token)
        assert status == 401 and body["errors"][0]["message"] == "Unable to find appropriate RSA key"
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_port_in_use_and_unwritable_ready_file_fail_with_a_reason():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = str(busy.getsockname()[1])
        proc = subprocess.run(["/usr/bin/python3", os.path.join(SIM_DIR, "ion-sim"), "--port", port],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert proc.returncode == 4 and ("127.0.0.1:%s" % port) in proc.stderr.decode()
    proc = subprocess.run(["/usr/bin/python3", os.path.join(SIM_DIR, "ion-sim"), "--ready-file",
                           "/nonexistent-dir/ready.json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert proc.returncode == 2 and "/nonexistent-dir/ready.json" in proc.stderr.decode()


def test_bad_fixture_is_reported_with_its_path():
    tmp = tempfile.mkdtemp(prefix="ion-sim-bad-")
    try:
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"parts": [')
        proc = subprocess.run(["/usr/bin/python3", os.path.join(SIM_DIR, "ion-sim"), "--fixture", bad],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert proc.returncode == 2 and bad in proc.stderr.decode()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_readme_curl_walkthrough_runs_as_written():
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    with open(os.path.join(SIM_DIR, "README.md")) as f:
        readme = f.read()
    block = re.search(r"## By hand with curl\n\n```sh\n(.*?)```", readme, re.S).group(1)
    tmp = tempfile.mkdtemp(prefix="ion-sim-readme-")
    try:
        # The trap stops the background simulator even when a step fails.
        script = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + block.replace(
            "/tmp/sim.json", os.path.join(tmp, "sim.json"))
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)
        out = proc.stdout.decode()
        assert proc.returncode == 0, proc.stderr.decode()
        assert '"me": {"id": 42' in out
        assert '"serialNumber": "SN-000101"' in out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
