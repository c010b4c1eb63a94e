# SPDX-License-Identifier: Apache-2.0
"""Fault injection, the request log, reset, and concurrency safety."""

import http.client
import json
import os
import threading
import time

import pytest

CREATE_ISSUE = "mutation CreateIssue($input: CreateIssueInput!) { createIssue(input: $input) { issue { id } } }"
ME = "query Me { me { id } }"


def issue_count(sim):
    return len(sim.state()["issues"])


def create_issue(sim, text="x", **kw):
    return sim.gql(CREATE_ISSUE, {"input": {"partInventoryId": 1001, "title": text}}, **kw)


def test_fail_next_n_with_status(sim):
    sim.admin("POST", "/faults", {"kind": "status", "status": 502, "count": 2})
    assert create_issue(sim)[0] == 502
    assert create_issue(sim)[0] == 502
    assert issue_count(sim) == 0
    assert create_issue(sim)[0] == 200
    assert issue_count(sim) == 1
    assert sim.admin("GET", "/faults")["faults"] == []


def test_outage_until_cleared_via_simctl(sim):
    import subprocess
    from conftest import SIM_DIR
    simctl = [os.path.join(SIM_DIR, "simctl"), "--ready-file", sim.ready_path]
    out = subprocess.run(simctl + ["fault", "status", "503", "--forever"], stdout=subprocess.PIPE, check=True)
    assert json.loads(out.stdout)["faults"][0]["count"] is None
    assert [create_issue(sim)[0] for _ in range(5)] == [503] * 5
    subprocess.run(simctl + ["faults", "clear"], stdout=subprocess.PIPE, check=True)
    assert create_issue(sim)[0] == 200
    bad = subprocess.run(simctl + ["revoke", "no-such-client"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert bad.returncode == 1 and b"unknown client" in bad.stderr


def test_rate_limit_with_and_without_retry_after(sim):
    sim.admin("POST", "/faults", [{"kind": "rate_limit", "retry_after": 2}, {"kind": "rate_limit"}])
    token = sim.token()
    status, headers, _ = sim.request("POST", "/graphql", {"query": ME}, {"Authorization": "Bearer " + token})
    assert status == 429 and headers["Retry-After"] == "2"
    status, headers, _ = sim.request("POST", "/graphql", {"query": ME}, {"Authorization": "Bearer " + token})
    assert status == 429 and "Retry-After" not in headers
    assert sim.gql(ME)[0] == 200


def test_delay(sim):
    sim.admin("POST", "/faults", {"kind": "delay", "seconds": 0.4})
    started = time.time()
    assert sim.gql(ME)[0] == 200
    assert time.time() - started >= 0.4


def test_status_after_a_delay(sim):
    sim.admin("POST", "/faults", {"kind": "status", "status": 502, "delay": 0.3})
    started = time.time()
    assert sim.gql(ME)[0] == 502
    assert time.time() - started >= 0.3


def test_close_before_apply_applies_nothing(sim):
    token = sim.token()
    sim.admin("POST", "/faults", {"kind": "close", "mutations_only": True})
    assert sim.gql(ME, token=token)[0] == 200  # queries pass
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        create_issue(sim, token=token)
    assert issue_count(sim) == 0
    entry = sim.admin("GET", "/log")["entries"][-1]
    assert entry["fault"] == "close" and entry["applied"] is False and entry["status"] is None
    assert entry["query"] == CREATE_ISSUE and entry["variables"]["input"]["title"] == "x"


def test_apply_then_drop_creates_what_a_retry_would_duplicate(sim):
    token = sim.token()
    sim.admin("POST", "/faults", {"kind": "drop_after_apply", "operation": "CreateIssue"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        create_issue(sim, token=token)
    assert issue_count(sim) == 1
    entry = sim.admin("GET", "/log")["entries"][-1]
    assert entry["fault"] == "drop_after_apply" and entry["applied"] is True and entry["status"] is None
    assert create_issue(sim, token=token)[0] == 200  # the naive retry: now there are two
    assert issue_count(sim) == 2


def test_drop_with_probability_is_repeatable_with_a_seed(sim):
    token = sim.token()
    sim.admin("POST", "/config", {"fault_seed": 7})
    sim.admin("POST", "/faults", {"kind": "drop_after_apply", "probability": 0.3, "mutations_only": True})
    dropped = 0
    for i in range(60):
        try:
            create_issue(sim, str(i), token=token)
        except (http.client.RemoteDisconnected, ConnectionError):
            dropped += 1
    assert 5 <= dropped <= 35
    assert issue_count(sim) == 60  # every request was applied, dropped or not
    assert sim.admin("GET", "/faults")["faults"][0]["hits"] == dropped


def test_fault_matches_operation_and_endpoint(sim):
    sim.admin("POST", "/faults", {"kind": "status", "status": 503, "operation": "CreateIssue"})
    assert sim.gql(ME)[0] == 200
    assert create_issue(sim)[0] == 503
    sim.admin("POST", "/faults", {"kind": "status", "status": 503, "match": "token"})
    assert sim.grant()[0] == 503
    assert sim.grant()[0] == 200


def test_graphql_error_fault_looks_like_an_ion_action_block(sim):
    sim.admin("POST", "/faults", {"kind": "graphql_error", "message": "Blocked by action", "code": "ACTION_BLOCKED"})
    status, body = create_issue(sim)
    assert status == 200 and body["errors"][0] == {"message": "Blocked by action", "extensions": {"code": "ACTION_BLOCKED"}}
    assert issue_count(sim) == 0


def test_bad_fault_specs_are_rejected_with_the_reason(sim):
    status, _, body = sim.request("POST", "/_sim/faults", {"kind": "explode"})
    assert status == 400 and "kind" in body["error"]
    status, _, body = sim.request("POST", "/_sim/faults", {"kind": "close", "probability": 2})
    assert status == 400 and "probability" in body["error"]


def test_request_log_has_document_variables_operation_and_time(sim):
    create_issue(sim, "logged")
    log = sim.admin("GET", "/log")
    entry = log["entries"][-1]
    assert entry["operation_name"] is None and entry["root_fields"] == ["createIssue"]
    assert entry["operation_type"] == "mutation" and entry["applied"] is True
    assert entry["query"] == CREATE_ISSUE and entry["variables"]["input"]["title"] == "logged"
    assert entry["auth"] == "ok" and entry["client_id"] == "ion-agent-demo" and entry["status"] == 200
    assert abs(entry["ts"] - time.time()) < 60 and entry["time"].endswith("Z")
    assert sim.admin("GET", "/log?since=%d" % entry["seq"])["entries"] == []


def test_reset_restores_the_fixture(sim):
    create_issue(sim)
    sim.admin("POST", "/faults", {"kind": "close"})
    sim.admin("POST", "/reset", {})
    assert issue_count(sim) == 0 and sim.admin("GET", "/faults")["faults"] == []
    assert sim.admin("GET", "/log")["entries"] == []


def test_concurrent_writers_are_serialized(sim):
    token = sim.token()
    errors = []

    def writer(n):
        for i in range(15):
            status, body = create_issue(sim, "%d-%d" % (n, i), token=token)
            if status != 200 or "errors" in body:
                errors.append(body)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = [i["id"] for i in sim.state()["issues"]]
    assert len(ids) == 90 and len(set(ids)) == 90


def test_racing_updates_with_one_etag_let_exactly_one_win(sim):
    token = sim.token()
    etag = next(r for r in sim.state()["run_steps"] if r["id"] == 19011)["_etag"]
    q = "mutation U($input: UpdateRunStepInput!) { updateRunStep(input: $input) { runStep { _etag } } }"
    results = []

    def racer(status):
        results.append(sim.gql(q, {"input": {"id": 19011, "etag": etag, "status": status}}, token=token)[1])

    threads = [threading.Thread(target=racer, args=(s,)) for s in ("HOLD", "FAILED", "REDLINE", "COMPLETE")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if "errors" not in r]
    assert len(wins) == 1
    assert all(r["errors"][0]["message"] == "Etag does not match" for r in results if "errors" in r)


def test_simctl_token_and_gql(sim):
    import subprocess
    from conftest import SIM_DIR
    simctl = [os.path.join(SIM_DIR, "simctl"), "--ready-file", sim.ready_path]
    token = subprocess.run(simctl + ["token"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    assert sim.ok("{ me { id } }", token=token)["me"]["id"] == 42
    out = subprocess.run(simctl + ["gql", "query($id: ID!) { partInventory(id: $id) { serialNumber } }", '{"id": 1020}'],
                         stdout=subprocess.PIPE, check=True)
    assert json.loads(out.stdout)["data"]["partInventory"]["serialNumber"] == "PSU0001"


def test_simctl_summary_shows_runs_and_units(sim):
    import subprocess
    from conftest import SIM_DIR
    create_issue(sim, "dented")
    out = subprocess.run([os.path.join(SIM_DIR, "simctl"), "--ready-file", sim.ready_path, "summary"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    assert "1901   IN_PROGRESS" in out and "19012  TODO" in out
    assert "SN-000101" in out and "RECEIVING" in out and "dented" in out


BATCH_ISSUES = ("mutation Batch($a: CreateIssueInput!, $b: CreateIssueInput!, $c: CreateIssueInput!) {"
                " a1: createIssue(input: $a) { issue { id } } a2: createIssue(input: $b) { issue { id } }"
                " a3: createIssue(input: $c) { issue { id } } }")


def batch_vars():
    return {k: {"partInventoryId": 1001, "title": k} for k in ("a", "b", "c")}


def test_aliased_fields_execute_independently_and_a_fault_hits_one_alias(sim):
    sim.admin("POST", "/faults", {"kind": "graphql_error", "operation": "a2", "message": "Rule says no",
                                  "code": "FORBIDDEN"})
    status, body = sim.gql(BATCH_ISSUES, batch_vars())
    assert status == 200
    assert body["data"]["a1"]["issue"]["id"] and body["data"]["a3"]["issue"]["id"]
    assert body["data"]["a2"] is None
    assert [(e["message"], e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("Rule says no", ["a2"], "FORBIDDEN")]
    assert issue_count(sim) == 2
    # Without `operation`, the first field of a multi-field document is the one that fails.
    sim.admin("POST", "/faults", {"kind": "graphql_error"})
    status, body = sim.gql(BATCH_ISSUES, batch_vars())
    assert body["data"]["a1"] is None and body["errors"][0]["path"] == ["a1"] and body["data"]["a3"]
    assert issue_count(sim) == 4
    # A one-field document is refused as a whole, as before.
    sim.admin("POST", "/faults", {"kind": "graphql_error"})
    status, body = create_issue(sim)
    assert body["data"] is None and "path" not in body["errors"][0]
    assert issue_count(sim) == 4


def test_drop_after_apply_on_a_reused_connection_only(sim):
    token = sim.token()
    sim.admin("POST", "/faults", {"kind": "drop_after_apply", "mutations_only": True, "reused_only": True})
    conn = sim.connect()
    try:
        assert create_issue(sim, "first", token=token, conn=conn)[0] == 200  # first on its connection
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            create_issue(sim, "second", token=token, conn=conn)  # kept alive, applied, dropped
    finally:
        conn.close()
    assert issue_count(sim) == 2
    assert sim.admin("GET", "/faults")["faults"] == []
