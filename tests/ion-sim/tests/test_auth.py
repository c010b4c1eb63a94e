# SPDX-License-Identifier: Apache-2.0
"""Token endpoint (Keycloak shapes) and ION's 401 answers on /graphql."""

import base64
import hashlib
import hmac
import json
import time

from conftest import DEMO_ID, DEMO_SECRET, OLD_TOKEN_PATH, SECOND_ID, SECOND_SECRET, TOKEN_PATH

ME = "{ me { id name } }"


def _claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_grant_answers_keycloak_shape_on_both_paths(sim):
    for path in (TOKEN_PATH, OLD_TOKEN_PATH):
        status, headers, body = sim.grant(path=path)
        assert status == 200, body
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 300
        assert headers["Cache-Control"] == "no-store"
        assert len(body["access_token"].split(".")) == 3
        claims = _claims(body["access_token"])
        assert claims["azp"] == DEMO_ID
        assert claims["exp"] - claims["iat"] == 300


def test_grant_accepts_audience_and_http_basic(sim):
    status, _, body = sim.grant(extra={"audience": sim.ready["api_url"]})
    assert status == 200, body
    basic = base64.b64encode(("%s:%s" % (DEMO_ID, DEMO_SECRET)).encode()).decode()
    status, _, body = sim.request("POST", TOKEN_PATH, b"grant_type=client_credentials",
                                  {"Content-Type": "application/x-www-form-urlencoded",
                                   "Authorization": "Basic " + basic})
    assert status == 200, body


def test_grant_failures_are_keycloak_errors(sim):
    assert sim.grant(secret="wrong")[0] == 401
    status, _, body = sim.grant(client_id="nobody", secret="x")
    assert (status, body["error"]) == (401, "invalid_client")
    status, _, body = sim.grant(extra={"grant_type": None})
    assert (status, body["error"]) == (400, "invalid_request")
    status, _, body = sim.grant(extra={"grant_type": "password"})
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, _, body = sim.request("POST", TOKEN_PATH, {"grant_type": "client_credentials"})
    assert (status, body["error"]) == (400, "invalid_request")


def test_graphql_accepts_bearer_token_and_bare_token(sim):
    token = sim.token()
    for auth in ("Bearer", "Token", "bearer", None):
        assert sim.ok(ME, token=token, auth=auth)["me"]["id"] == 42


def test_second_key_is_another_user(sim):
    status, _, body = sim.grant(SECOND_ID, SECOND_SECRET)
    assert status == 200
    assert sim.ok(ME, token=body["access_token"])["me"]["id"] == 43


def _expect_401(sim, headers, message):
    status, _, body = sim.request("POST", "/graphql", {"query": ME}, headers)
    assert status == 401, body
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED"


def test_missing_and_malformed_tokens_get_ion_messages(sim):
    _expect_401(sim, {}, "Please provide proper credentials")
    _expect_401(sim, {"Authorization": "Bearer "}, "Please provide proper credentials")
    _expect_401(sim, {"Authorization": "Bearer not-a-jwt"}, "Unable to parse authentication token")
    _expect_401(sim, {"Authorization": "Bearer a.b.c"}, "Unable to parse authentication token")


def test_token_from_another_auth_server_is_rejected(sim):
    header, payload, _ = sim.token().split(".")
    forged = hmac.new(b"another-key", (header + "." + payload).encode(), hashlib.sha256).digest()
    sig = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    _expect_401(sim, {"Authorization": "Bearer %s.%s.%s" % (header, payload, sig)},
                "Unable to find appropriate RSA key")


def test_token_expires_after_its_ttl(sim):
    sim.admin("POST", "/config", {"token_ttl": 1})
    status, _, body = sim.grant()
    assert body["expires_in"] == 1
    token = body["access_token"]
    assert sim.gql(ME, token=token)[0] == 200
    time.sleep(1.3)
    _expect_401(sim, {"Authorization": "Bearer " + token}, "Unable to validate authentication token")


def test_admin_expire_all_tokens(sim):
    old = sim.token()
    sim.admin("POST", "/tokens/expire", {})
    _expect_401(sim, {"Authorization": "Bearer " + old}, "Unable to validate authentication token")
    status, _, body = sim.grant()
    assert sim.gql(ME, token=body["access_token"])[0] == 200


def test_revoked_client_cannot_get_or_use_tokens(sim):
    token = sim.token()
    sim.admin("POST", "/clients/%s/revoke" % DEMO_ID, {})
    assert sim.grant()[0] == 401
    _expect_401(sim, {"Authorization": "Bearer " + token}, "Unable to validate authentication token")
    assert sim.grant(SECOND_ID, SECOND_SECRET)[0] == 200
    sim.admin("POST", "/clients/%s/restore" % DEMO_ID, {})
    assert sim.gql(ME, token=token)[0] == 200


def test_auth_outcomes_are_logged_without_secrets(sim):
    sim.request("POST", "/graphql", {"query": ME}, {})
    sim.gql(ME)
    entries = sim.admin("GET", "/log")["entries"]
    text = json.dumps(entries)
    assert DEMO_SECRET not in text and sim.token() not in text
    outcomes = [(e["endpoint"], e["auth"]) for e in entries]
    assert ("graphql", "missing") in outcomes and ("token", "granted") in outcomes
    assert ("graphql", "ok") in outcomes
