# SPDX-License-Identifier: Apache-2.0
"""The agent's mutations: runs, run steps, field values, inventory, issues; etags and ION's rules."""

import pytest

from ionsim.rules import derive_run_status

CREATE_RUN = """mutation CreateRun($input: CreateRunInput!) { createRun(input: $input) {
  run { id _etag title status procedureId partInventoryId procedure { id title } partInventory { id serialNumber status }
        steps { id _etag status position title upstreamStepIds fields { id _etag name type required value } } } } }"""
UPDATE_STEP = """mutation UpdateStep($input: UpdateRunStepInput!) { updateRunStep(input: $input) {
  runStep { id status title _etag content } } }"""
UPDATE_FIELD = """mutation UpdateField($input: UpdateRunStepFieldValueInput!) { updateRunStepFieldValue(input: $input) {
  runStepField { id name type value _etag } } }"""
RUN = "query Run($id: ID!) { run(id: $id) { id _etag status startedAt completedAt steps { id _etag status } } }"
CREATE_INV = """mutation CreateInv($input: CreatePartInventoryInput!) { createPartInventory(input: $input) {
  partInventory { id _etag serialNumber lotNumber quantity status location { name } part { partNumber } } } }"""
UPDATE_INV = """mutation UpdateInv($input: UpdatePartInventoryInput!) { updatePartInventory(input: $input) {
  partInventory { id _etag quantity locationId location { id name } } } }"""
CREATE_ISSUE = """mutation CreateIssue($input: CreateIssueInput!) { createIssue(input: $input) { issue { id causeCondition } } }"""


def create_run(sim, procedure, unit, title=None):
    inp = {"procedureId": procedure, "partInventoryId": unit}
    if title:
        inp["title"] = title
    return sim.ok(CREATE_RUN, {"input": inp})["createRun"]["run"]


def set_step(sim, step, status):
    """Updates a step with its current etag; returns (http status, body)."""
    etag = _find(sim.state()["run_steps"], step)["_etag"]
    return sim.gql(UPDATE_STEP, {"input": {"id": step, "etag": etag, "status": status}})


def set_field(sim, field, value):
    etag = _find(sim.state()["run_fields"], field)["_etag"]
    return sim.gql(UPDATE_FIELD, {"input": {"id": field, "etag": etag, "value": value}})


def _find(rows, rec_id):
    return next(r for r in rows if r["id"] == rec_id)


def _error(body):
    assert body.get("errors"), body
    return body["errors"][0]


def test_create_run_instantiates_steps_from_the_procedure(sim):
    run = create_run(sim, 12, 1001)
    assert run["id"] == 2001 and run["status"] == "TODO"
    assert run["title"] == "ASM-100 - SN-000101 - Controller Assembly"
    assert run["procedure"] == {"id": 12, "title": "Controller Assembly"}
    assert [s["title"] for s in run["steps"]] == ["Assemble controller", "Final inspection"]
    assert all(s["status"] == "TODO" for s in run["steps"])
    assert run["steps"][1]["upstreamStepIds"] == [run["steps"][0]["id"]]
    assert [f["name"] for f in run["steps"][0]["fields"]] == ["Notes", "Torque checked"]
    assert run["partInventory"]["status"] == "WIP"
    assert run["steps"][0]["id"] != run["steps"][1]["id"]


def test_assembly_flow_pass(sim):
    run = create_run(sim, 12, 1001)
    s1, s2 = (s["id"] for s in run["steps"])
    status, body = set_step(sim, s1, "IN_PROGRESS")
    assert status == 200 and body["data"]["updateRunStep"]["runStep"]["status"] == "IN_PROGRESS"
    after = sim.ok(RUN, {"id": run["id"]})["run"]
    assert after["status"] == "IN_PROGRESS" and after["startedAt"] and after["_etag"] != run["_etag"]
    # Step 2 depends on step 1.
    assert "not available" in _error(set_step(sim, s2, "IN_PROGRESS")[1])["message"]
    assert set_step(sim, s1, "COMPLETE")[0] == 200
    assert set_step(sim, s2, "IN_PROGRESS")[0] == 200
    err = _error(set_step(sim, s2, "COMPLETE")[1])
    assert "Visual inspection passed" in err["message"] and err["extensions"]["code"] == "VALIDATION_ERROR"
    field = run["steps"][1]["fields"][0]["id"]
    assert set_field(sim, field, True)[0] == 200
    assert "errors" not in set_step(sim, s2, "COMPLETE")[1]
    final = sim.ok(RUN, {"id": run["id"]})["run"]
    assert final["status"] == "COMPLETE" and final["completedAt"]
    unit = sim.ok("{ partInventory(id: 1001) { status } }")["partInventory"]
    assert unit["status"] == "AVAILABLE"


def test_assembly_flow_fail(sim):
    run = create_run(sim, 12, 1004)
    s1 = run["steps"][0]["id"]
    assert "cannot change status from TODO to FAILED" in _error(set_step(sim, s1, "FAILED")[1])["message"]
    set_step(sim, s1, "IN_PROGRESS")
    assert "errors" not in set_step(sim, s1, "FAILED")[1]
    assert sim.ok(RUN, {"id": run["id"]})["run"]["status"] == "FAILED"
    assert "errors" not in set_step(sim, s1, "TODO")[1]  # rework


def test_step_update_rotates_etag_and_stale_etag_is_a_concurrency_error(sim):
    old = _find(sim.state()["run_steps"], 19012)["_etag"]
    body = sim.gql(UPDATE_STEP, {"input": {"id": 19011, "etag": _find(sim.state()["run_steps"], 19011)["_etag"],
                                           "status": "HOLD"}})[1]
    new = body["data"]["updateRunStep"]["runStep"]["_etag"]
    status, body = sim.gql(UPDATE_STEP, {"input": {"id": 19011, "etag": "0" * 32, "status": "IN_PROGRESS"}})
    assert status == 200
    err = _error(body)
    assert err["message"] == "Etag does not match"
    assert err["extensions"]["code"] == "CONCURRENCY_ERROR"
    assert err["path"] == ["updateRunStep"]
    assert body["data"] == {"updateRunStep": None}
    row = _find(sim.state()["run_steps"], 19011)
    assert row["status"] == "HOLD" and row["_etag"] == new and len(new) == 32
    assert _find(sim.state()["run_steps"], 19012)["_etag"] == old


def test_etag_conflict_status_can_be_409(sim):
    sim.admin("POST", "/config", {"etag_conflict_status": 409})
    status, body = sim.gql(UPDATE_STEP, {"input": {"id": 19011, "etag": "f" * 32, "status": "HOLD"}})
    assert status == 409 and _error(body)["extensions"]["code"] == "CONCURRENCY_ERROR"


def test_touch_makes_a_held_etag_stale(sim):
    etag = _find(sim.state()["run_steps"], 19011)["_etag"]
    sim.admin("POST", "/touch", {"table": "run_steps", "id": 19011})
    body = sim.gql(UPDATE_STEP, {"input": {"id": 19011, "etag": etag, "status": "HOLD"}})[1]
    assert _error(body)["message"] == "Etag does not match"


def test_field_etags_are_per_field_and_step_etag_survives_field_writes(sim):
    run = create_run(sim, 13, 1002)
    step = run["steps"][0]
    body = set_step(sim, step["id"], "IN_PROGRESS")[1]
    step_etag = body["data"]["updateRunStep"]["runStep"]["_etag"]
    f_volt, f_curr = step["fields"][0], step["fields"][1]
    res = sim.ok(UPDATE_FIELD, {"input": {"id": f_volt["id"], "etag": f_volt["_etag"], "value": 24.1}})
    assert res["updateRunStepFieldValue"]["runStepField"]["value"] == 24.1
    assert res["updateRunStepFieldValue"]["runStepField"]["_etag"] != f_volt["_etag"]
    # The other field's etag is untouched and the step etag from the step update still works ([EX] flow).
    assert "errors" not in sim.gql(UPDATE_FIELD, {"input": {"id": f_curr["id"], "etag": f_curr["_etag"], "value": "120"}})[1]
    assert "errors" not in sim.gql(UPDATE_STEP, {"input": {"id": step["id"], "etag": step_etag, "status": "HOLD"}})[1]
    stale = sim.gql(UPDATE_FIELD, {"input": {"id": f_volt["id"], "etag": f_volt["_etag"], "value": 24.0}})[1]
    assert _error(stale)["extensions"]["code"] == "CONCURRENCY_ERROR"


def _fill_test_stand(sim, fields, **overrides):
    values = {"Supply voltage": 24.0, "Current draw": 200, "LEDs OK": True, "Firmware version": "1.4.2",
              "Result grade": "A"}
    values.update(overrides)
    by_name = {f["name"]: f["id"] for f in fields}
    for name, value in values.items():
        status, body = set_field(sim, by_name[name], value)
        assert "errors" not in body, body


def test_test_stand_required_fields_and_ranges(sim):
    run = create_run(sim, 13, 1005)
    step = run["steps"][0]
    assert "IN_PROGRESS" in _error(set_field(sim, step["fields"][0]["id"], 24.0)[1])["message"]  # step still TODO
    set_step(sim, step["id"], "IN_PROGRESS")
    err = _error(set_step(sim, step["id"], "COMPLETE")[1])
    for name in ("Supply voltage", "Current draw", "LEDs OK", "Firmware version", "Result grade"):
        assert name in err["message"]
    assert "Operator notes" not in err["message"]
    _fill_test_stand(sim, step["fields"], **{"Current draw": 999})
    err = _error(set_step(sim, step["id"], "COMPLETE")[1])
    assert "out of range" in err["message"] and "Current draw" in err["message"]
    _fill_test_stand(sim, step["fields"])
    assert "errors" not in set_step(sim, step["id"], "COMPLETE")[1]


@pytest.mark.parametrize("name,value", [("LEDs OK", "yes"), ("Supply voltage", "high"),
                                        ("Result grade", "D"), ("Firmware version", 12)])
def test_field_values_must_fit_the_field_type(sim, name, value):
    run = create_run(sim, 13, 1006)
    step = run["steps"][0]
    set_step(sim, step["id"], "IN_PROGRESS")
    field = next(f for f in step["fields"] if f["name"] == name)
    err = _error(set_field(sim, field["id"], value)[1])
    assert err["extensions"]["code"] == "VALIDATION_ERROR" and name in err["message"]
    assert _find(sim.state()["run_fields"], field["id"])["value"] is None


def test_unknown_ids_are_not_found(sim):
    body = sim.gql(CREATE_RUN, {"input": {"procedureId": 99, "partInventoryId": 1001}})[1]
    assert _error(body)["extensions"]["code"] == "NOT_FOUND"
    assert sim.state()["runs"][-1]["id"] == 1901


@pytest.mark.parametrize("statuses,expected", [
    (["TODO", "TODO"], "TODO"), (["IN_PROGRESS", "TODO"], "IN_PROGRESS"), (["COMPLETE", "TODO"], "IN_PROGRESS"),
    (["HOLD", "IN_PROGRESS"], "HOLD"), (["HOLD", "REDLINE"], "REDLINE"), (["FAILED", "REDLINE"], "FAILED"),
    (["COMPLETE", "COMPLETE"], "COMPLETE"), (["CANCELED", "CANCELED"], "CANCELED"),
    (["COMPLETE", "CANCELED"], "PARTIAL_COMPLETE")])
def test_run_status_is_derived_from_steps(statuses, expected):
    assert derive_run_status(statuses) == expected


def test_create_serialized_and_lot_inventory(sim):
    inv = sim.ok(CREATE_INV, {"input": {"partId": 100, "serialNumber": "SN-000900", "locationId": 1}})
    unit = inv["createPartInventory"]["partInventory"]
    assert unit["id"] == 5001 and unit["quantity"] == 1 and unit["location"]["name"] == "RECEIVING"
    dup = sim.gql(CREATE_INV, {"input": {"partId": 100, "serialNumber": "SN-000900"}})[1]
    assert "already exists" in _error(dup)["message"]
    lot = sim.ok(CREATE_INV, {"input": {"partId": 101, "lotNumber": "LOT-X", "quantity": 250, "locationId": 2}})
    assert lot["createPartInventory"]["partInventory"]["quantity"] == 250
    bad = sim.gql(CREATE_INV, {"input": {"partId": 101, "lotNumber": "LOT-Y", "quantity": 0}})[1]
    assert "greater than 0" in _error(bad)["message"]
    assert len(sim.state()["part_inventories"]) == 14


def test_move_unit_with_update_part_inventory(sim):
    etag = _find(sim.state()["part_inventories"], 1001)["_etag"]
    moved = sim.ok(UPDATE_INV, {"input": {"id": 1001, "etag": etag, "locationId": 2}})
    inv = moved["updatePartInventory"]["partInventory"]
    assert inv["location"] == {"id": 2, "name": "KIT-A"} and inv["_etag"] != etag
    # Lookups by location and serial follow the write (they are served from indexes).
    q = "query($l: ID) { partInventories(filters: {locationId: {eq: $l}}) { edges { node { id } } } }"
    assert 1001 in [e["node"]["id"] for e in sim.ok(q, {"l": 2})["partInventories"]["edges"]]
    assert 1001 not in [e["node"]["id"] for e in sim.ok(q, {"l": "1"})["partInventories"]["edges"]]
    renamed = sim.ok(UPDATE_INV, {"input": {"id": 1001, "etag": inv["_etag"], "serialNumber": "SN-000199"}})
    inv = renamed["updatePartInventory"]["partInventory"]
    q = "query($s: String) { partInventories(filters: {serialNumber: {in: [$s]}}) { edges { node { id } } } }"
    assert sim.ok(q, {"s": "SN-000199"})["partInventories"]["edges"] == [{"node": {"id": 1001}}]
    assert sim.ok(q, {"s": "SN-000101"})["partInventories"]["edges"] == []
    stale = sim.gql(UPDATE_INV, {"input": {"id": 1001, "etag": etag, "locationId": 3}})[1]
    assert _error(stale)["message"] == "Etag does not match"
    assert _find(sim.state()["part_inventories"], 1001)["locationId"] == 2
    bad = sim.gql(UPDATE_INV, {"input": {"id": 1001, "etag": inv["_etag"], "locationId": 77}})[1]
    assert _error(bad)["extensions"]["code"] == "NOT_FOUND"


def test_create_issue(sim):
    cause = [{"children": [{"type": "p", "children": [{"text": "Scratched housing"}]}]}]
    issue = sim.ok(CREATE_ISSUE, {"input": {"partInventoryId": 1003, "causeCondition": cause}})["createIssue"]["issue"]
    assert issue["id"] == 3001 and issue["causeCondition"] == cause
    row = sim.state()["issues"][0]
    assert row["partInventoryId"] == 1003 and row["createdById"] == 42
    listed = sim.ok("{ issues(first: 10) { edges { node { id } } } }")["issues"]["edges"]
    assert [e["node"]["id"] for e in listed] == [3001]
    sim.ok(CREATE_ISSUE, {"input": {"partInventoryId": 1003, "title": "Leak [ion-agent:abc123]"}})
    sim.ok(CREATE_ISSUE, {"input": {"partInventoryId": 1004, "title": "Leak [ion-agent:abc123]"}})
    q = """query($u: ID, $m: String) { issues(filters: {partInventoryId: {eq: $u}, title: {ilike: $m}}, first: 5) {
      edges { node { id title } } } }"""
    found = sim.ok(q, {"u": 1003, "m": "%[ion-agent:abc123]%"})["issues"]["edges"]
    assert [e["node"]["id"] for e in found] == [3002]


def test_mutation_literal_values(sim):
    # JSON scalar literals (not variables) work too: `value: true` as in the [MAN] sample.
    run = create_run(sim, 12, 1004)
    s2 = run["steps"][1]
    set_step(sim, run["steps"][0]["id"], "IN_PROGRESS")
    set_step(sim, run["steps"][0]["id"], "COMPLETE")
    set_step(sim, s2["id"], "IN_PROGRESS")
    f = s2["fields"][0]
    q = 'mutation { updateRunStepFieldValue(input: {id: %d, value: true, etag: "%s"}) { runStepField { value } } }' % (
        f["id"], f["_etag"])
    assert sim.ok(q)["updateRunStepFieldValue"]["runStepField"]["value"] is True
