#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prints ion-sim throughput over one keep-alive HTTPS connection, as the agent would use it:
a unit lookup and a mutation on the small fixture, then the same lookups after N units and N
runs have been created (state grows during a 10 000-intent drain benchmark).
Usage: tests/ion-sim/bench_sim.py [N]   (starts and stops its own simulator)"""

import os
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "tests"))
from conftest import SimProcess  # noqa: E402

FIND = """query FindUnit($sn: String!) { partInventories(filters: {serialNumber: {eq: $sn}}, first: 10) {
  edges { node { id _etag serialNumber status location { id name } part { id partNumber } } } } }"""
ISSUE = "mutation CreateIssue($input: CreateIssueInput!) { createIssue(input: $input) { issue { id } } }"
CREATE_INV = """mutation CreateInv($input: CreatePartInventoryInput!) {
  createPartInventory(input: $input) { partInventory { id } } }"""
CREATE_RUN = "mutation CreateRun($input: CreateRunInput!) { createRun(input: $input) { run { id steps { id _etag } } } }"
RUNS = """query Runs($u: ID) { runs(filters: {partInventoryId: {eq: $u}, procedureId: {eq: 12}}, first: 10) {
  edges { node { id status steps { id status _etag } } } } }"""


def timed(sim, conn, token, label, calls):
    t0 = time.time()
    out = None
    for query, variables in calls:
        status, out = sim.gql(query, variables, token=token, conn=conn)
        assert status == 200 and "errors" not in out, out
    dt = time.time() - t0
    print("%-34s %6d requests  %7.1f req/s  %6.2f ms/request" % (label, len(calls), len(calls) / dt,
                                                                   dt * 1000 / len(calls)))
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    started = time.time()
    sim = SimProcess()
    print("startup to ready file: %.0f ms" % ((time.time() - started) * 1000))
    try:
        conn = sim.connect()
        token = sim.token()
        timed(sim, conn, token, "query FindUnit (fixture)", [(FIND, {"sn": "SN-000104"})] * n)
        timed(sim, conn, token, "mutation CreateIssue", [(ISSUE, {"input": {"partInventoryId": 1004}})] * n)
        timed(sim, conn, token, "mutation CreatePartInventory",
              [(CREATE_INV, {"input": {"partId": 100, "serialNumber": "B%06d" % i}}) for i in range(n)])
        timed(sim, conn, token, "mutation CreateRun",
              [(CREATE_RUN, {"input": {"procedureId": 12, "partInventoryId": 5001 + i}}) for i in range(n)])
        timed(sim, conn, token, "query FindUnit (+%d units)" % n,
              [(FIND, {"sn": "B%06d" % (i % n)}) for i in range(n)])
        timed(sim, conn, token, "query Runs of a unit (+%d runs)" % n,
              [(RUNS, {"u": 5001 + (i % n)}) for i in range(n)])
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
