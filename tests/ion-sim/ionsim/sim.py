# SPDX-License-Identifier: Apache-2.0
"""The simulator's state machine, independent of HTTP: token grants, GraphQL requests, the
request log and the admin operations.

Every method returns (status, headers, body-object) and never raises on client input. One
lock (`self.lock`) guards the store, tokens and config, so concurrent requests see atomic
mutations; parsing, validation and JSON encoding happen outside it.
"""

import collections
import copy
import sys
import threading
import traceback
import urllib.parse

from . import auth
from .gql import Engine, format_error, original_errors
from .root import Root
from .storage import Storage
from .store import Store

TOKEN_PATHS = ("/realms/api-keys/protocol/openid-connect/token",
               "/auth/realms/api-keys/protocol/openid-connect/token")
JSON = {"Content-Type": "application/json"}
NO_STORE = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status, error, description):
    return status, NO_STORE, {"error": error, "error_description": description}


def _gql_error(status, message, code=None):
    err = {"message": message}
    if code:
        err["extensions"] = {"code": code}
    return status, JSON, {"errors": [err]}


class Config:
    def __init__(self, token_ttl=300, etag_conflict_status=200, validation_error_status=200):
        self.token_ttl = token_ttl
        self.etag_conflict_status = etag_conflict_status
        self.validation_error_status = validation_error_status
        # A real server's depth/complexity limit, crudely: documents with more top-level
        # fields are refused before anything executes (0 = no limit).
        self.max_root_fields = 0
        # Seconds an upload URL (createFileAttachment's uploadUrl) stays good.
        self.upload_url_ttl = 300

    def as_dict(self):
        return dict(self.__dict__)


class Sim:
    def __init__(self, sdl_text, fixture, signing_key, issuer, config):
        self.engine = Engine(sdl_text)
        self.fixture = fixture
        self.lock = threading.Lock()
        self.store = Store(fixture)
        self.storage = Storage()
        self.base_url = "https://127.0.0.1"  # set by main once the port is known
        self.defaults = copy.copy(config)
        self.config = config
        self.tokens = auth.TokenService(signing_key, issuer, config.token_ttl)
        self.log = collections.deque(maxlen=200000)
        self.log_lock = threading.Lock()
        self.seq = 0

    # ---- request log ---------------------------------------------------------------------

    def record(self, entry):
        with self.log_lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)

    def log_since(self, since=0, limit=None):
        with self.log_lock:
            entries = [e for e in self.log if e["seq"] > since]
            last = self.seq
        if limit is not None:
            entries = entries[:limit]
        return {"entries": entries, "last_seq": last}

    # ---- token endpoint ------------------------------------------------------------------

    def token(self, headers, body, entry):
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return _oauth_error(400, "invalid_request", "Form body is not UTF-8")
        form = {k: v[0] for k, v in form.items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("Authorization") or ""
        if basic.lower().startswith("basic "):  # client_secret_basic (Keycloak discovery lists it)
            try:
                decoded = auth._unb64(basic[6:].strip().replace("+", "-").replace("/", "_")).decode()
                client_id, _, secret = decoded.partition(":")
                client_id, secret = urllib.parse.unquote(client_id), urllib.parse.unquote(secret)
            except (ValueError, UnicodeDecodeError):
                return _oauth_error(400, "invalid_request", "Malformed Basic authorization header")
        entry["client_id"] = client_id
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "Missing form parameter: grant_type")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
        if not client_id:
            return _oauth_error(400, "invalid_request", "Missing parameter: client_id")
        with self.lock:
            key = self.store.api_keys.get(client_id)
            ok = key is not None and secret is not None and key["client_secret"] == secret
            if not ok or client_id in self.tokens.revoked:
                return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
            self.tokens.ttl = self.config.token_ttl
            token, claims = self.tokens.issue(client_id, key["user_id"])
        return 200, NO_STORE, {
            "access_token": token, "expires_in": int(self.config.token_ttl), "refresh_expires_in": 0,
            "token_type": "Bearer", "not-before-policy": 0, "scope": claims["scope"],
        }

    # ---- GraphQL ---------------------------------------------------------------------------

    def authenticate(self, header_value, entry):
        """Returns the caller's user id, or a 401 response tuple."""
        try:
            with self.lock:
                claims = self.tokens.verify(header_value)
                key = self.store.api_keys.get(claims.get("azp"))
        except auth.AuthError as e:
            entry["auth"] = e.outcome
            return None, _gql_error(401, e.message, "UNAUTHORIZED")
        entry["auth"] = "ok"
        entry["client_id"] = claims.get("azp")
        user_id = key["user_id"] if key else int(claims.get("sub", 0))
        return user_id, None

    def graphql(self, payload, user_id, entry, fail_fields=None):
        """Executes one request object {query, variables, operationName}; fail_fields as in
        Engine.execute (the graphql_error fault on one field of a multi-field document)."""
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _gql_error(400, "Must provide query string.")
        variables = payload.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return _gql_error(400, "Variables are invalid JSON.")
        op_name = payload.get("operationName")
        entry.update(query=payload["query"], variables=variables, operation_name=op_name)
        prepared = self.engine.prepare(payload["query"])
        op = prepared.operation(op_name)
        if op is not None:
            entry.update(operation_type=op[0], root_fields=op[1],
                         root_keys=[k for k, _ in prepared.root_keys(op_name)])
        if prepared.document is None:
            entry["errors"] = [e["message"] for e in prepared.errors]
            return 400, JSON, {"errors": prepared.errors}
        if prepared.errors:
            entry["errors"] = [e["message"] for e in prepared.errors]
            return self.config.validation_error_status, JSON, {"errors": prepared.errors}
        if op is not None and 0 < self.config.max_root_fields < len(op[1]):
            message = "Query is too complex: %d top-level fields, at most %d" % (len(op[1]), self.config.max_root_fields)
            entry["errors"] = [message]
            return self.config.validation_error_status, JSON, {"errors": [{"message": message}]}
        with self.lock:
            root = Root(self.store, user_id, self.storage, self.base_url, self.config.upload_url_ttl)
            data, errors = self.engine.execute(prepared, root, variables or {}, op_name, fail_fields)
        return self._result(data, errors, op, entry)

    def _result(self, data, errors, op, entry):
        sims, unexpected = original_errors(errors)
        for exc in unexpected:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        body = {"data": data}
        status = 200
        if errors:
            body["errors"] = [format_error(e) for e in errors]
            entry["errors"] = [e["message"] for e in body["errors"]]
            if data is None:
                del body["data"]
        if any(e.code == "CONCURRENCY_ERROR" for e in sims):
            status = self.config.etag_conflict_status
        entry["applied"] = bool(op and op[0] == "mutation" and data
                                and any(v is not None for v in data.values()))
        if op and op[0] == "mutation":  # per top-level field (alias): which ones took effect
            entry["applied_keys"] = [k for k, v in (data or {}).items() if v is not None]
        return status, JSON, body

    # ---- admin -----------------------------------------------------------------------------

    def reset(self):
        with self.lock:
            self.store = Store(self.fixture)
            self.storage = Storage()
            self.tokens.revoked.clear()
            self.config.__dict__.update(self.defaults.__dict__)
        with self.log_lock:
            self.log.clear()

    def state(self):
        with self.lock:
            dump = self.store.dump()
            dump["revoked_clients"] = sorted(self.tokens.revoked)
            dump["config"] = self.config.as_dict()
        return dump
