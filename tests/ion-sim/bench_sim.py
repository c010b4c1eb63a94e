#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prints ion-sim throughput for an agent-like request mix over one keep-alive HTTPS
connection: find a unit by serial, then a mutation (createIssue), N times each.
Usage: tests/ion-sim/bench_sim.py [N] (starts and stops its own simulator)."""

import os
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "tests"))
from conftest import SimProcess  # noqa: E402

FIND = """query FindUnit($sn: String!) { partInventories(filters: {serialNumber: {eq: $sn}}, first: 10) {
  edges { node { id _etag serialNumber status location { id name } part { id partNumber } } } } }"""
ISSUE = "mutation CreateIssue($input: CreateIssueInput!) { createIssue(input: $input) { issue { id } } }"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    started = time.time()
    sim = SimProcess()
    print("startup to ready file: %.0f ms" % ((time.time() - started) * 1000))
    try:
        conn = sim.connect()
        token = sim.token()
        for name, query, variables in (("query FindUnit", FIND, {"sn": "SN-000104"}),
                                       ("mutation CreateIssue", ISSUE, {"input": {"partInventoryId": 1004}})):
            t0 = time.time()
            for _ in range(n):
                status, body = sim.gql(query, variables, token=token, conn=conn)
                assert status == 200 and "errors" not in body, body
            dt = time.time() - t0
            print("%-22s %6d requests  %7.1f req/s  %6.2f ms/request" % (name, n, n / dt, dt * 1000 / n))
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
