# SPDX-License-Identifier: Apache-2.0
"""pytest fixtures: a real ion-sim process (HTTPS, test CA) and a small client for it.

`sim` is one simulator for the whole session, reset through its admin API before every test;
`start_sim(*args)` starts a private one for tests that need other flags. The interpreter that
runs the simulator is /usr/bin/python3 unless $ION_SIM_PYTHON names another (e.g. to try
graphql-core 3 on a Debian 12 host).
"""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_DIR = os.path.dirname(HERE)
sys.path.insert(0, SIM_DIR)

with open(os.path.join(SIM_DIR, "fixtures", "factory.json")) as _f:
    FIXTURE = json.load(_f)
DEMO_ID = FIXTURE["client_id"]
DEMO_SECRET = FIXTURE["client_secret"]
SECOND_ID = FIXTURE["api_keys"][0]["client_id"]
SECOND_SECRET = FIXTURE["api_keys"][0]["client_secret"]
TOKEN_PATH = "/realms/api-keys/protocol/openid-connect/token"
OLD_TOKEN_PATH = "/auth/realms/api-keys/protocol/openid-connect/token"


class SimProcess:
    def __init__(self, args=(), tmp=None):
        self.own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="ion-sim-test-")
        self.ready_path = os.path.join(self.tmp, "ready.json")
        python = os.environ.get("ION_SIM_PYTHON", "/usr/bin/python3")
        cmd = [python, os.path.join(SIM_DIR, "ion-sim"), "--port", "0", "--ready-file", self.ready_path]
        # Output goes to a file, not a pipe nobody drains (a full pipe would block the sim).
        self.log_path = os.path.join(self.tmp, "sim-%d.log" % time.time_ns())
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd + list(args), stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while not os.path.exists(self.ready_path):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                with open(self.log_path, errors="replace") as f:
                    raise RuntimeError("ion-sim did not start: %s" % f.read())
            time.sleep(0.02)
        with open(self.ready_path) as f:
            self.ready = json.load(f)
        self.host = urllib.parse.urlsplit(self.ready["api_url"]).hostname
        self.port = self.ready["port"]
        self.ctx = ssl.create_default_context(cafile=self.ready["ca"]) if self.ready["ca"] else None
        self._token = None

    # ---- HTTP -----------------------------------------------------------------------------

    def connect(self, timeout=30):
        if self.ctx is None:
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """(status, headers, parsed JSON body or None). Raises on a dropped connection."""
        own = conn is None
        conn = conn or self.connect()
        try:
            data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
            hdrs = {"Content-Type": "application/json"}
            hdrs.update(headers or {})
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            text = resp.read()
            parsed = json.loads(text.decode()) if text else None
            return resp.status, dict(resp.getheaders()), parsed
        finally:
            if own:
                conn.close()

    def grant(self, client_id=DEMO_ID, secret=DEMO_SECRET, path=TOKEN_PATH, extra=None):
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        form.update(extra or {})
        body = urllib.parse.urlencode({k: v for k, v in form.items() if v is not None}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def token(self):
        if self._token is None:
            status, _, body = self.grant()
            assert status == 200, body
            self._token = body["access_token"]
        return self._token

    def gql(self, query, variables=None, token=None, auth="Bearer", op=None, conn=None):
        token = token or self.token()
        headers = {"Authorization": "%s %s" % (auth, token) if auth else token}
        payload = {"query": query, "variables": variables or {}}
        if op:
            payload["operationName"] = op
        status, _, body = self.request("POST", "/graphql", payload, headers, conn)
        return status, body

    def ok(self, query, variables=None, **kw):
        """Runs a document that must succeed; returns its data."""
        status, body = self.gql(query, variables, **kw)
        assert status == 200 and "errors" not in body, body
        return body["data"]

    def admin(self, method, path, body=None):
        status, _, out = self.request(method, "/_sim" + path, body)
        assert status == 200, out
        return out

    def state(self):
        return self.admin("GET", "/state")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.proc.returncode


@pytest.fixture(scope="session")
def _session_sim():
    s = SimProcess()
    yield s
    s.stop()


@pytest.fixture
def sim(_session_sim):
    _session_sim.admin("POST", "/reset", {})
    _session_sim._token = None
    return _session_sim


@pytest.fixture
def start_sim():
    started = []

    def start(*args, tmp=None):
        s = SimProcess(args, tmp)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
