# SPDX-License-Identifier: Apache-2.0
"""Schema validation, the documented read operations, filters and Relay pagination."""

import re

import pytest

FIND_UNIT = """query FindUnit($sn: String!, $pn: String!) {
  partInventories(filters: {serialNumber: {eq: $sn}, part: {partNumber: {ilike: $pn}}}, first: 10) {
    edges { node { id _etag serialNumber status location { id name } part { id partNumber revision trackingType } } }
  } }"""  # [TS]

SEARCH_PARTS = """query Parts($pn: String!, $rev: String!) {
  parts(filters: {partNumber: {ilike: $pn}, revision: {ilike: $rev}}, first: 10) {
    edges { node { id partNumber revision partType trackingType description _etag } }
    pageInfo { hasNextPage endCursor } } }"""  # [TS]

AT_LOCATION = """query AtLocation($loc: ID!) {
  partInventories(filters: {locationId: {eq: $loc}, status: {neq: INSTALLED}}) {
    edges { node { id partId quantity quantityAvailable part { partNumber description revision } } } } }"""  # [EX]

RUN_DETAIL = """query Run($id: ID!) { run(id: $id) { id _etag title status procedureId partInventoryId
  steps { id _etag status position title fields { id name type value _etag } } } }"""  # [EX]/[MAN]

PROCEDURE = """query Proc($id: ID!) { procedure(id: $id) { id title type
  steps { id title position entityId upstreamStepIds fields { id name type unit required options } } } }"""  # [EX]

LOCATIONS = """query Locs($names: [String]) { locations(filters: {name: {in: $names}}, first: 5000) {
  edges { node { id name entityId } } } }"""  # [IMP]/[TS]

ME = "query { me { id name email organization { id domain } permissionGroups { name } } }"  # [DOCS]/[EX]


def test_unknown_field_fails_like_ion(sim):
    status, body = sim.gql("{ partInventories { edges { node { id state } } } }")
    assert status == 200
    assert "data" not in body
    # graphql-core 2 quotes names with ", 3 with '.
    assert re.match(r"Cannot query field .state. on type .PartInventory.", body["errors"][0]["message"])


def test_docs_only_shapes_are_rejected(sim):
    # [DOCS] common-queries shapes that real ION code contradicts: bare list + limit.
    status, body = sim.gql("{ partInventories(limit: 250) { id } }")
    assert status == 200 and body["errors"]


def test_wrong_enum_casing_is_rejected_in_literals_and_variables(sim):
    status, body = sim.gql('mutation { updateRunStep(input: {id: 19011, etag: "x", status: complete}) { runStep { id } } }')
    assert status == 200 and "data" not in body
    assert "complete" in body["errors"][0]["message"]
    q = "mutation U($input: UpdateRunStepInput!) { updateRunStep(input: $input) { runStep { id } } }"
    status, body = sim.gql(q, {"input": {"id": 19011, "etag": "x", "status": "in_progress"}})
    assert status == 200 and body["errors"] and not body.get("data")
    assert sim.state()["run_steps"][0]["status"] == "IN_PROGRESS"


def test_syntax_error_and_bad_json_are_400(sim):
    assert sim.gql("{ me { id }")[0] == 400
    status, _, body = sim.request("POST", "/graphql", b"{not json", {"Authorization": "Bearer " + sim.token()})
    assert status == 400 and body["errors"]
    status, _, body = sim.request("POST", "/graphql", {"variables": {}}, {"Authorization": "Bearer " + sim.token()})
    assert status == 400


def test_introspection_is_enabled(sim):
    data = sim.ok("{ __schema { queryType { name } mutationType { name } } }")
    assert data["__schema"]["queryType"]["name"] == "Query"
    data = sim.ok('{ __type(name: "RunStepStatusEnum") { enumValues { name } } }')
    assert "IN_PROGRESS" in [v["name"] for v in data["__type"]["enumValues"]]


def test_me_and_current_user(sim):
    me = sim.ok(ME)["me"]
    assert me == {"id": 42, "name": "Station Service Account", "email": "station-svc@demo-factory.example",
                  "organization": {"id": 7, "domain": "demo-factory.example"},
                  "permissionGroups": [{"name": "Operators"}]}
    assert sim.ok("{ currentUser { id } }")["currentUser"]["id"] == 42


def test_find_unit_by_serial_with_nested_part_filter(sim):
    edges = sim.ok(FIND_UNIT, {"sn": "SN-000101", "pn": "asm-100"})["partInventories"]["edges"]
    assert len(edges) == 1
    node = edges[0]["node"]
    assert node["id"] == 1001 and isinstance(node["id"], int)
    assert node["status"] == "AVAILABLE" and node["location"] == {"id": 1, "name": "RECEIVING"}
    assert len(node["_etag"]) == 32 and int(node["_etag"], 16) >= 0
    assert sim.ok(FIND_UNIT, {"sn": "SN-000101", "pn": "RES-10K"})["partInventories"]["edges"] == []


def test_parts_ilike_wildcards_and_gs1_part(sim):
    edges = sim.ok(SEARCH_PARTS, {"pn": "asm%", "rev": "a"})["parts"]["edges"]
    assert [e["node"]["partNumber"] for e in edges] == ["ASM-100"]
    edges = sim.ok(SEARCH_PARTS, {"pn": "09506000134352", "rev": "%"})["parts"]["edges"]
    assert edges[0]["node"]["id"] == 102 and edges[0]["node"]["trackingType"] == "SERIAL"
    data = sim.ok("{ parts(filters: {partType: {eq: TOOL}}) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in data["parts"]["edges"]] == [104]


def test_inventory_at_location_and_wip_status(sim):
    edges = sim.ok(AT_LOCATION, {"loc": "2"})["partInventories"]["edges"]
    assert sorted(e["node"]["id"] for e in edges) == [1002, 1011, 1021, 1030]
    wip = sim.ok("{ partInventories(filters: {status: {eq: WIP}}) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in wip["partInventories"]["edges"]] == [1003]


def test_in_and_neq_filters(sim):
    q = "query($ids: [ID]) { partInventories(filters: {id: {in: $ids}, serialNumber: {neq: \"SN-000102\"}}) { edges { node { id } } } }"
    edges = sim.ok(q, {"ids": ["1001", 1002, "1003"]})["partInventories"]["edges"]
    assert [e["node"]["id"] for e in edges] == [1001, 1003]


def test_relay_pagination_walks_every_inventory_once(sim):
    q = """query Page($after: String) { partInventories(first: 5, after: $after) {
      edges { cursor node { id } } pageInfo { hasNextPage endCursor totalCount count } } }"""
    seen, after, pages = [], None, 0
    while True:
        conn = sim.ok(q, {"after": after})["partInventories"]
        pages += 1
        seen += [e["node"]["id"] for e in conn["edges"]]
        assert conn["pageInfo"]["totalCount"] == 12
        assert conn["pageInfo"]["count"] == len(conn["edges"])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert pages == 3
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 12
    status, body = sim.gql(q, {"after": "bogus!"})
    assert body["errors"][0]["message"].startswith("Invalid cursor")


def test_runs_filter_by_procedure_and_unit(sim):
    q = "query($p: ID, $u: ID) { runs(filters: {procedureId: {eq: $p}, partInventoryId: {eq: $u}}, first: 50) { edges { node { id title status } } } }"
    edges = sim.ok(q, {"p": "12", "u": "1003"})["runs"]["edges"]
    assert [e["node"]["id"] for e in edges] == [1901]
    assert sim.ok(q, {"p": "13", "u": "1003"})["runs"]["edges"] == []


def test_run_and_procedure_details(sim):
    run = sim.ok(RUN_DETAIL, {"id": 1901})["run"]
    assert run["status"] == "IN_PROGRESS"
    assert [s["id"] for s in run["steps"]] == [19011, 19012]
    assert [f["name"] for f in run["steps"][1]["fields"]] == ["Visual inspection passed"]
    proc = sim.ok(PROCEDURE, {"id": 13})["procedure"]
    fields = {f["name"]: f for f in proc["steps"][0]["fields"]}
    assert fields["Result grade"]["options"] == ["A", "B", "C"]
    assert fields["Supply voltage"]["unit"] == "V" and fields["Supply voltage"]["required"] is True
    assert proc["steps"][1]["upstreamStepIds"] == [1301]
    assert sim.ok("{ run(id: 999999) { id } }")["run"] is None


def test_locations_by_name(sim):
    edges = sim.ok(LOCATIONS, {"names": ["KIT-A", "WIP-1"]})["locations"]["edges"]
    assert [e["node"]["name"] for e in edges] == ["KIT-A", "WIP-1"]


def test_json_array_batch(sim):
    status, _, body = sim.request("POST", "/graphql", [{"query": "{ me { id } }"}, {"query": "{ nope }"}],
                                  {"Authorization": "Bearer " + sim.token()})
    assert status == 200
    assert body[0]["data"]["me"]["id"] == 42 and body[1]["errors"]


def test_not_modelled_mutation_says_so(sim):
    status, body = sim.gql('mutation { createBarcodeLabel(input: {entityId: 1, templateId: 2}) { barcodeLabel { barcode } } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_IMPLEMENTED"


@pytest.mark.parametrize("query", [FIND_UNIT, SEARCH_PARTS, AT_LOCATION, RUN_DETAIL, PROCEDURE, LOCATIONS, ME])
def test_documented_reads_validate(sim, query):
    from ionsim.gql import Engine
    import os
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "schema.graphql")) as f:
        engine = Engine(f.read())
    assert engine.prepare(query).errors == []
