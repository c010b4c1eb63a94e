#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The Python client an ION user would write from ION's quickstart, for tests/bench/wire_bench.py.

One kept-alive HTTPS connection (http.client, what requests.Session does underneath), a
client-credentials token, a SQLite outbox (WAL, synchronous=FULL), and per intent one lookup
request and one mutation request, in order; ids it learnt (part, location, unit, run) are
cached as a script would. The same scans as wire_drain: unit.ensure, run.ensure, step.status
IN_PROGRESS per unit. Prints one JSON object: seconds, cpu_s (this process), requests.
  quickstart_client.py --api URL --token URL --ca FILE --db PATH --prefix P --units N
"""
import argparse
import http.client
import json
import sqlite3
import ssl
import time
import urllib.parse

UNIT = """query Unit($serial: String!, $partNumber: String!) {
  partInventories(filters: {serialNumber: {eq: $serial}, part: {partNumber: {ilike: $partNumber}}}, first: 10) {
    edges { node { id _etag serialNumber part { id } } } } }"""
CREATE_UNIT = """mutation CreateUnit($input: CreatePartInventoryInput!) {
  createPartInventory(input: $input) { partInventory { id _etag } } }"""
RUNS = """query Runs($u: ID!, $p: ID!) { runs(filters: {partInventoryId: {eq: $u}, procedureId: {eq: $p}}, first: 50) {
  edges { node { id status steps { id position status _etag } } } } }"""
CREATE_RUN = """mutation CreateRun($input: CreateRunInput!) { createRun(input: $input) { run { id status } } }"""
SET_STEP = """mutation SetStep($input: UpdateRunStepInput!) { updateRunStep(input: $input) { runStep { id status } } }"""
SETUP = """query Setup { parts(filters: {partNumber: {eq: "ASM-100"}}, first: 5) { edges { node { id isLatestRevision } } }
  locations(filters: {name: {eq: "RECEIVING"}}, first: 5) { edges { node { id } } } }"""
OPEN = ("COMPLETE", "CANCELED", "PARTIAL_COMPLETE")


class Ion:
    def __init__(self, api, token_url, ca):
        self.api = urllib.parse.urlsplit(api)
        self.token_url = urllib.parse.urlsplit(token_url)
        self.ctx = ssl.create_default_context(cafile=ca)
        self.conn = None
        self.requests = 0
        self.token = None

    def _post(self, path, body, headers):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.api.hostname, self.api.port, context=self.ctx, timeout=30)
            try:
                self.requests += 1
                self.conn.request("POST", path, body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, json.loads(resp.read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def login(self):
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "ion-agent-demo",
                                       "client_secret": "demo-secret-0f3c9a1e7b2d4c58"}).encode()
        status, out = self._post(self.token_url.path, form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, out
        self.token = out["access_token"]

    def gql(self, query, variables=None):
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        status, out = self._post(self.api.path.rstrip("/") + "/graphql", body,
                                 {"Content-Type": "application/json", "Authorization": "Bearer " + self.token})
        if status != 200 or out.get("errors"):
            raise RuntimeError("ION: %s %s" % (status, out))
        return out["data"]


def main():
    ap = argparse.ArgumentParser()
    for k in ("api", "token", "ca", "db", "prefix"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--units", type=int, default=100)
    a = ap.parse_args()
    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, kind TEXT, serial TEXT, done INTEGER DEFAULT 0)")
    db.execute("BEGIN")
    for u in range(a.units):
        sn = "%s-%06d" % (a.prefix, u)
        for kind in ("unit.ensure", "run.ensure", "step.status"):
            db.execute("INSERT INTO outbox (kind, serial) VALUES (?, ?)", (kind, sn))
    db.execute("COMMIT")

    t0, c0 = time.time(), time.process_time()
    ion = Ion(a.api, a.token, a.ca)
    ion.login()
    setup = ion.gql(SETUP)
    part = next(e["node"]["id"] for e in setup["parts"]["edges"] if e["node"]["isLatestRevision"])
    location = setup["locations"]["edges"][0]["node"]["id"]
    units, runs = {}, {}
    for row_id, kind, sn in db.execute("SELECT id, kind, serial FROM outbox WHERE done = 0 ORDER BY id").fetchall():
        if kind == "unit.ensure":
            found = ion.gql(UNIT, {"serial": sn, "partNumber": "ASM-100"})["partInventories"]["edges"]
            if found:
                units[sn] = found[0]["node"]["id"]
            else:
                out = ion.gql(CREATE_UNIT, {"input": {"partId": part, "serialNumber": sn, "quantity": 1,
                                                      "locationId": location}})
                units[sn] = out["createPartInventory"]["partInventory"]["id"]
        elif kind == "run.ensure":
            edges = ion.gql(RUNS, {"u": units[sn], "p": "12"})["runs"]["edges"]
            open_runs = [e["node"] for e in edges if e["node"]["status"] not in OPEN]
            if open_runs:
                runs[sn] = open_runs[-1]["id"]
            else:
                out = ion.gql(CREATE_RUN, {"input": {"procedureId": "12", "partInventoryId": units[sn],
                                                     "title": "ASM-100 - %s" % sn}})
                runs[sn] = out["createRun"]["run"]["id"]
        else:
            edges = ion.gql(RUNS, {"u": units[sn], "p": "12"})["runs"]["edges"]
            run = next(e["node"] for e in edges if e["node"]["id"] == runs[sn])
            step = min((s for s in run["steps"] if s["status"] not in ("COMPLETE", "CANCELED")),
                       key=lambda s: s["position"])
            if step["status"] != "IN_PROGRESS":
                ion.gql(SET_STEP, {"input": {"id": step["id"], "etag": step["_etag"], "status": "IN_PROGRESS"}})
        db.execute("UPDATE outbox SET done = 1 WHERE id = ?", (row_id,))
    print(json.dumps({"seconds": time.time() - t0, "cpu_s": time.process_time() - c0, "requests": ion.requests,
                      "intents": a.units * 3}))


if __name__ == "__main__":
    main()
