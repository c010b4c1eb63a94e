# SPDX-License-Identifier: Apache-2.0
"""HTTP(S) front end: routes, fault injection and the /_sim admin API.

One thread per connection (ThreadingHTTPServer), HTTP/1.1 keep-alive, TLS handshake done in
the connection's thread so a slow client cannot stall accept(). Routes:
  POST /graphql                                 ION GraphQL (JSON object or JSON array batch)
  POST /realms/api-keys/protocol/openid-connect/token        client-credentials grant
  POST /auth/realms/api-keys/protocol/openid-connect/token   (older path, same answer)
  GET  /realms/api-keys/.well-known/openid-configuration     discovery stub
  PUT  /storage/<bucket>/<key>?X-Sim-Token=T    an upload URL (storage.py: presigned-S3 stand-in)
  GET  /storage/<bucket>/<key>                  an attachment's bytes (its downloadUrl)
  /_sim/...                                     admin API (no auth; see README.md)
"""

import json
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import faults as faults_mod
from . import storage as storage_mod
from .admin import admin
from .sim import JSON, TOKEN_PATHS, _gql_error

MAX_BODY = 16 * 1024 * 1024


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, sim, ssl_context, verbose=False):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sim = sim
        self.faults = faults_mod.FaultTable()
        self.ssl_context = ssl_context
        self.verbose = verbose
        self.connections = 0  # accepted (a TLS handshake each, full or resumed)
        self.tls_resumed = 0
        self.counter_lock = threading.Lock()
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # Small request/response pairs on keep-alive connections: without TCP_NODELAY, Nagle
        # and the client's delayed ACK add ~40 ms per request.
        with self.counter_lock:
            self.connections += 1
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.ssl_context is not None:
            try:
                request.settimeout(10)
                request = self.ssl_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
                if request.session_reused:
                    with self.counter_lock:
                        self.tls_resumed += 1
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the CA, or a port scanner
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.ssl_context is not None:
                self.shutdown_request(request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ion-sim/1.0"
    timeout = 120

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass  # ION requests are summarised by _record (with --verbose); admin calls are quiet

    def _record(self, entry):
        self.server.sim.record(entry)
        if self.server.verbose:
            what = entry["endpoint"] if entry["endpoint"] == "token" else "%s %s" % (
                entry.get("operation_type") or "?", entry.get("operation_name") or ",".join(entry["root_fields"]))
            flags = [f for f in (entry["fault"] and "fault=" + entry["fault"], entry["applied"] and "applied",
                                 entry["errors"] and "error: " + entry["errors"][0][:120]) if f]
            sys.stderr.write("ion-sim: %s %s %s %s\n" % (entry["status"] or "dropped", entry["client_id"] or "-",
                                                         what, " ".join(flags)))

    # ---- plumbing ------------------------------------------------------------------------

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, headers, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        # Headers and body in one write (one TLS record, one segment when small).
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.flush_headers()

    def _drop(self):
        """Closes the connection without an answer (the client sees EOF)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

    def do_PUT(self):
        self._route("PUT")

    def _route(self, method):
        try:
            self._route_checked(method)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception:  # a simulator bug: answer 500 and say where, keep serving
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._send(500, JSON, {"errors": [{"message": "ion-sim internal error (see its stderr)"}]})
            except OSError:
                pass

    def _route_checked(self, method):
        url = urllib.parse.urlsplit(self.path)
        key = storage_mod.parse_path(url.path)
        if key is not None:  # bodies of any size: read here, in chunks
            return self._storage(method, url, key)
        try:
            body = self._read_body()
        except ValueError as e:
            self._send(400, JSON, {"errors": [{"message": "Malformed request body: %s" % e}]})
            self.close_connection = True
            return
        if url.path.startswith("/_sim/") or url.path == "/_sim":
            return self._send(*admin(self.server, method, url, body))
        if url.path == "/graphql":
            if method != "POST":
                return self._send(*_gql_error(405, "Only POST is supported on /graphql"))
            return self._serve("graphql", body)
        if url.path in TOKEN_PATHS:
            if method != "POST":
                return self._send(405, JSON, {"error": "invalid_request", "error_description": "HTTP method not allowed"})
            return self._serve("token", body)
        if url.path.endswith("/.well-known/openid-configuration") and method == "GET":
            return self._send(200, JSON, discovery(self.server))
        return self._send(404, JSON, {"errors": [{"message": "Not found: %s" % url.path}]})

    # ---- storage (upload URLs) ---------------------------------------------------------------

    def _storage(self, method, url, key):
        sim = self.server.sim
        started = time.time()
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "ts": started,
                 "endpoint": "storage", "path": url.path, "method": method, "client_id": None, "auth": None,
                 "operation_name": None, "operation_type": None, "root_fields": [], "errors": [],
                 "applied": False, "fault": None, "key": key, "bytes": 0}
        xml = {"Content-Type": "application/xml"}
        if method == "GET":
            with sim.lock:
                data = sim.storage.blobs.get(key)
            entry["status"] = 200 if data is not None else 404
            self._record(entry)
            if data is None:
                return self._send(404, xml, storage_mod.xml_error("NoSuchKey", "The specified key does not exist."))
            return self._send(200, {"Content-Type": "application/octet-stream"}, data)
        if method != "PUT":
            entry["status"] = 405
            self._record(entry)
            return self._send(405, xml, storage_mod.xml_error("MethodNotAllowed", "Use PUT"))
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            entry["status"] = 411
            self._record(entry)
            self.close_connection = True
            return self._send(411, xml, storage_mod.xml_error("MissingContentLength", "Send Content-Length"))
        length = int(length)
        fault = self.server.faults.take("storage", (), True, reused=False)
        if fault is not None:
            entry["fault"] = fault["kind"]
            if fault["delay"]:
                time.sleep(fault["delay"])
        limit = length
        if fault is not None and fault["kind"] == "close":
            limit = fault["after_bytes"] if fault["after_bytes"] is not None else length // 2
        chunks, got = [], 0
        while got < min(limit, length):
            chunk = self.rfile.read(min(65536, min(limit, length) - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        entry["bytes"] = got
        if fault is not None and fault["kind"] == "close":
            entry["status"] = None
            self._record(entry)
            return self._drop()
        if got < length:
            self.close_connection = True
            entry["status"] = None
            self._record(entry)
            return
        data = b"".join(chunks)
        if fault is not None and fault["kind"] == "status":
            entry["status"] = fault["status"]
            self._record(entry)
            return self._send(fault["status"], xml, storage_mod.xml_error("ServiceUnavailable", "Simulated"))
        token = urllib.parse.parse_qs(url.query).get("X-Sim-Token", [""])[0]
        with sim.lock:
            if fault is not None and fault["kind"] == "expire" and token in sim.storage.urls:
                sim.storage.urls[token]["expires"] = 0
            refused = sim.storage.check(token, key, self.headers.get("Content-Type"))
            if refused is None:
                u, etag = sim.storage.put(token, data)
                rec = sim.store.file_attachments.get(u["attachment_id"]) if u["attachment_id"] else None
                if rec is not None:
                    rec.update(storage_mod.describe_blob(data))
                    sim.store.touch(rec)
        if refused is not None:
            entry.update(status=refused[0], errors=[refused[2]])
            self._record(entry)
            return self._send(refused[0], xml, storage_mod.xml_error(refused[1], refused[2]))
        entry.update(status=200, applied=True)
        self._record(entry)
        if fault is not None and fault["kind"] == "drop_after_apply":
            return self._drop()
        self._send(200, {"ETag": etag}, b"")

    # ---- ION endpoints with faults -------------------------------------------------------

    def _serve(self, endpoint, body):
        sim = self.server.sim
        started = time.time()
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "ts": started,
                 "endpoint": endpoint, "path": self.path, "client_id": None, "auth": None,
                 "operation_name": None, "operation_type": None, "root_fields": [], "errors": [],
                 "applied": False, "fault": None}
        payload, names, is_mutation = describe(sim, endpoint, body)
        if isinstance(payload, dict):  # logged even when a fault answers before execution
            entry.update(query=payload.get("query"), variables=payload.get("variables"),
                         operation_name=payload.get("operationName"))
            if isinstance(payload.get("query"), str):
                op = sim.engine.prepare(payload["query"]).operation(payload.get("operationName"))
                if op is not None:
                    entry.update(operation_type=op[0], root_fields=op[1],
                                 root_keys=[k for k, _ in sim.engine.prepare(payload["query"]).root_keys(
                                     payload.get("operationName"))])
        self.requests_served = getattr(self, "requests_served", 0) + 1
        fault = self.server.faults.take(endpoint, names, is_mutation, reused=self.requests_served > 1)
        fail_fields = None
        if fault is not None:
            entry["fault"] = fault["kind"]
            if fault["delay"]:
                time.sleep(fault["delay"])
            if fault["kind"] == "graphql_error":
                fail_fields = _failing_fields(sim, payload, fault)
            if fault["kind"] == "delay":
                time.sleep(fault["seconds"])
            elif fault["kind"] != "drop_after_apply" and fail_fields is None:
                return self._fault_reply(fault, entry, started)
        if endpoint == "token":
            status, headers, out = sim.token(self.headers, body, entry)
            entry["auth"] = "granted" if status == 200 else out.get("error")
        else:
            status, headers, out = self._graphql(payload, entry, fail_fields)
        entry.update(status=status, duration_ms=round((time.time() - started) * 1000, 3))
        if fault is not None and fault["kind"] == "drop_after_apply":
            entry["status"] = None
            self._record(entry)
            return self._drop()
        self._record(entry)
        self._send(status, headers, out)

    def _fault_reply(self, fault, entry, started):
        kind = fault["kind"]
        entry["duration_ms"] = round((time.time() - started) * 1000, 3)
        if kind == "close":
            entry["status"] = None
            self._record(entry)
            return self._drop()
        headers = dict(JSON)
        if kind == "graphql_error":
            status, body = 200, {"data": None, "errors": [{"message": fault["message"], "extensions": {"code": fault["code"]}}]}
        elif kind == "rate_limit":
            status, body = fault["status"], {"errors": [{"message": "Too Many Requests"}]}
            if fault["retry_after"] is not None:
                ra = fault["retry_after"]
                headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
        else:
            status, body = fault["status"], {"errors": [{"message": "Simulated HTTP %d" % fault["status"]}]}
        entry["status"] = status
        self._record(entry)
        self._send(status, headers, body)

    def _graphql(self, payload, entry, fail_fields=None):
        sim = self.server.sim
        user_id, denied = sim.authenticate(self.headers.get("Authorization"), entry)
        if denied is not None:
            return denied
        if payload is _BAD_JSON:
            return _gql_error(400, "Request body is not valid JSON")
        if isinstance(payload, list):  # [IMP]-style batch: one result per entry
            results = []
            for item in payload:
                sub = dict(entry, batch=True)
                status, _, out = sim.graphql(item, user_id, sub)
                entry.setdefault("batch_items", []).append({k: sub.get(k) for k in (
                    "operation_name", "root_fields", "errors", "applied", "query", "variables")})
                results.append(out)
            entry["applied"] = any(i["applied"] for i in entry["batch_items"])
            return 200, JSON, results
        return sim.graphql(payload, user_id, entry, fail_fields)


_BAD_JSON = object()


def _failing_fields(sim, payload, fault):
    """For a graphql_error fault on a document with several top-level fields (a batch of
    aliases): {response key: SimError} for the fields it hits (those named by `operation`,
    else the first), so only they fail, each with its own error and path, as a rule on one
    field would at ION. None for a one-field document: the whole request is refused as before."""
    from .gql import SimError
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    keys = sim.engine.prepare(payload["query"]).root_keys(payload.get("operationName"))
    if len(keys) < 2:
        return None
    hit = [k for k, field in keys if fault["operation"] in (field, k)] if fault["operation"] else [keys[0][0]]
    if not hit:
        return None  # the fault matched the operation's name: the whole document fails
    return {k: SimError(fault["message"], fault["code"]) for k in hit}


def describe(sim, endpoint, body):
    """Parses the body once: (payload, operation/root-field names, is_mutation) for matching."""
    if endpoint != "graphql":
        return None, (), False
    try:
        payload = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        return _BAD_JSON, (), False
    names, is_mutation = [], False
    for item in payload if isinstance(payload, list) else [payload]:
        if not isinstance(item, dict) or not isinstance(item.get("query"), str):
            continue
        prepared = sim.engine.prepare(item["query"])
        op = prepared.operation(item.get("operationName"))
        if op is not None:
            name = item.get("operationName") or next((n for n, o in prepared.operations.items() if o is op), None)
            names.extend([name] if name else [])
            names.extend(op[1])
            names.extend(k for k, _ in prepared.root_keys(item.get("operationName")))  # aliases
            is_mutation = is_mutation or op[0] == "mutation"
    return payload, names, is_mutation


def discovery(server):
    base = server.sim.tokens.issuer
    return {"issuer": base, "token_endpoint": base + "/protocol/openid-connect/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]}

