# SPDX-License-Identifier: Apache-2.0
"""File attachments: createFileAttachment's uploadUrl is a presigned-S3 stand-in on the sim's
own HTTPS server (single use, expiring, bound to its Content-Type); the bytes are stored and
read back through the step's fileAttachments, fileAttachment(id) and the downloadUrl; flow B
(requestFileUploadUrl, PUT, createFileAttachment {s3Key}); storage fault knobs."""

import hashlib
import http.client
import ssl
import urllib.parse

import pytest

CREATE_RUN = """mutation CreateRun($input: CreateRunInput!) { createRun(input: $input) {
  run { id steps { id entityId } } } }"""
CREATE = """mutation CreateFileAttachment($input: CreateFileAttachmentInput!) {
  createFileAttachment(input: $input) { fileAttachment { id entityId filename contentType s3Bucket s3Key } uploadUrl } }"""
STEP_FILES = """query StepAttachments($run: ID!) { run(id: $run) { id steps { id entityId
  fileAttachments { id filename size contentType } } } }"""
ONE = "query One($id: ID!) { fileAttachment(id: $id) { id filename size downloadUrl url s3Key } }"
REQUEST_URL = "query Url($f: String!) { requestFileUploadUrl(filename: $f) { uploadUrl s3Key contentType } }"


def put(sim, url, data, content_type="text/csv", conn=None):
    """(status, headers, body) of a PUT to an upload URL; raises on a dropped connection."""
    parts = urllib.parse.urlsplit(url)
    conn = conn or sim.connect()
    try:
        conn.request("PUT", parts.path + "?" + parts.query, body=data,
                     headers={"Content-Type": content_type, "Content-Length": str(len(data))})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def get(sim, url):
    parts = urllib.parse.urlsplit(url)
    conn = sim.connect()
    try:
        conn.request("GET", parts.path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def new_step(sim):
    run = sim.ok(CREATE_RUN, {"input": {"procedureId": 12, "partInventoryId": 1001}})["createRun"]["run"]
    return run["id"], run["steps"][0]


def create(sim, entity, filename="SN-000101.csv"):
    return sim.ok(CREATE, {"input": {"entityId": entity, "filename": filename}})["createFileAttachment"]


def test_flow_a_stores_the_bytes_and_the_step_lists_them(sim):
    run_id, step = new_step(sim)
    out = create(sim, step["entityId"])
    att = out["fileAttachment"]
    assert att["filename"] == "SN-000101.csv" and att["contentType"] == "text/csv"
    assert att["entityId"] == step["entityId"]
    assert out["uploadUrl"].startswith(sim.ready["api_url"] + "/storage/")
    # Before the PUT: listed, no bytes.
    files = sim.ok(STEP_FILES, {"run": run_id})["run"]["steps"][0]["fileAttachments"]
    assert files == [{"id": att["id"], "filename": "SN-000101.csv", "size": None, "contentType": "text/csv"}]
    data = b"serial,result\nSN-000101,PASS\n"
    status, headers, _ = put(sim, out["uploadUrl"], data)
    assert status == 200 and headers["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    files = sim.ok(STEP_FILES, {"run": run_id})["run"]["steps"][0]["fileAttachments"]
    assert files[0]["size"] == len(data)
    one = sim.ok(ONE, {"id": att["id"]})["fileAttachment"]
    assert one["size"] == len(data)
    assert get(sim, one["downloadUrl"]) == (200, data)
    rec = next(r for r in sim.state()["file_attachments"] if r["id"] == att["id"])
    assert rec["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_upload_url_is_single_use_typed_and_expires(sim):
    _, step = new_step(sim)
    out = create(sim, step["entityId"])
    status, _, body = put(sim, out["uploadUrl"], b"x", content_type="application/octet-stream")
    assert status == 403 and b"SignatureDoesNotMatch" in body
    assert put(sim, out["uploadUrl"], b"x")[0] == 200
    status, _, body = put(sim, out["uploadUrl"], b"x")
    assert status == 403 and b"used already" in body
    out = create(sim, step["entityId"], "b.csv")
    sim.admin("POST", "/storage/expire", {})
    status, _, body = put(sim, out["uploadUrl"], b"x")
    assert status == 403 and b"Request has expired" in body
    sim.admin("POST", "/config", {"upload_url_ttl": 0})
    out = create(sim, step["entityId"], "c.csv")
    assert put(sim, out["uploadUrl"], b"x")[0] == 403
    status, _, body = put(sim, out["uploadUrl"].split("?")[0] + "?X-Sim-Token=nope", b"x")
    assert status == 403 and b"AccessDenied" in body


def test_unknown_entity_and_bad_names_are_refused(sim):
    status, body = sim.gql(CREATE, {"input": {"entityId": 12345, "filename": "a.csv"}})
    assert body["errors"][0]["message"] == "Entity 12345 not found"
    _, step = new_step(sim)
    status, body = sim.gql(CREATE, {"input": {"entityId": step["entityId"], "filename": "a/b.csv"}})
    assert "filename" in body["errors"][0]["message"]


def test_flow_b_request_url_then_create_with_the_key(sim):
    run_id, step = new_step(sim)
    u = sim.ok(REQUEST_URL, {"f": "photo.png"})["requestFileUploadUrl"]
    assert u["contentType"] == "image/png"
    assert put(sim, u["uploadUrl"], b"\x89PNG", content_type="image/png")[0] == 200
    out = sim.ok(CREATE, {"input": {"entityId": step["entityId"], "filename": "photo.png", "s3Key": u["s3Key"],
                                    "s3Etag": "x"}})["createFileAttachment"]
    assert out["uploadUrl"] is None
    files = sim.ok(STEP_FILES, {"run": run_id})["run"]["steps"][0]["fileAttachments"]
    assert files[0]["size"] == 4
    status, body = sim.gql(CREATE, {"input": {"entityId": step["entityId"], "filename": "x", "s3Key": "uploads/none"}})
    assert "No uploaded object" in body["errors"][0]["message"]


def test_fault_close_cuts_the_put_and_stores_nothing(sim):
    run_id, step = new_step(sim)
    out = create(sim, step["entityId"])
    sim.admin("POST", "/faults", {"kind": "close", "match": "storage", "after_bytes": 1000})
    with pytest.raises((http.client.HTTPException, ConnectionError, ssl.SSLError, OSError)):
        put(sim, out["uploadUrl"], b"y" * 100000)
    assert sim.ok(STEP_FILES, {"run": run_id})["run"]["steps"][0]["fileAttachments"][0]["size"] is None
    # The URL was not used: the repeated PUT goes through.
    assert put(sim, out["uploadUrl"], b"y" * 100000)[0] == 200
    entries = [e for e in sim.admin("GET", "/log")["entries"] if e["endpoint"] == "storage"]
    assert [e["fault"] for e in entries] == ["close", None]
    assert entries[0]["bytes"] == 1000


def test_fault_drop_after_apply_stores_then_hangs_up(sim):
    run_id, step = new_step(sim)
    out = create(sim, step["entityId"])
    sim.admin("POST", "/faults", {"kind": "drop_after_apply", "match": "storage"})
    with pytest.raises((http.client.HTTPException, ConnectionError, ssl.SSLError, OSError)):
        put(sim, out["uploadUrl"], b"z" * 10)
    assert sim.ok(STEP_FILES, {"run": run_id})["run"]["steps"][0]["fileAttachments"][0]["size"] == 10
    assert put(sim, out["uploadUrl"], b"z" * 10)[0] == 403  # used up


def test_fault_expire_refuses_the_put_as_expired(sim):
    _, step = new_step(sim)
    out = create(sim, step["entityId"])
    sim.admin("POST", "/faults", {"kind": "expire", "match": "storage"})
    status, _, body = put(sim, out["uploadUrl"], b"x")
    assert status == 403 and b"Request has expired" in body
    assert put(sim, out["uploadUrl"], b"x")[0] == 403  # stays expired
