# SPDX-License-Identifier: Apache-2.0
"""The /_sim admin API (JSON, no auth; the simulator binds to loopback by default).

  GET    /_sim/health                       {"ok": true, "pid": N, "connections": N, "tls_resumed": N}
                                            (connections accepted; of those, TLS sessions resumed)
  GET    /_sim/state                        full state dump (+ revoked clients, config)
  GET    /_sim/log?since=SEQ&limit=N        request log entries after SEQ
  DELETE /_sim/log                          clear the request log
  GET    /_sim/faults                       armed faults
  POST   /_sim/faults                       arm one fault (object) or several (array)
  DELETE /_sim/faults                       disarm all faults
  POST   /_sim/tokens/expire                every token issued so far is expired now
  POST   /_sim/clients/<client_id>/revoke   disable an API key (grants and its tokens fail)
  POST   /_sim/clients/<client_id>/restore  enable it again
  GET    /_sim/config | POST /_sim/config   etag_conflict_status, validation_error_status,
                                            token_ttl, fault_seed, upload_url_ttl, max_root_fields (refuse
                                            larger documents, as a complexity limit; 0 = none)
  POST   /_sim/touch {"table", "id"}        rotate a record's _etag (someone else edited it)
  POST   /_sim/set {"table", "id", "fields"} overwrite record fields (rotates _etag)
  POST   /_sim/storage/expire               every upload URL handed out so far is expired now
  POST   /_sim/reset                        reload the fixture; clear faults, log, revocations
Answers (status, headers, body); bad input gets 400 with {"error": "..."} naming the problem.
"""

import os
import urllib.parse

from .faults import FaultSpecError
from .sim import JSON

TABLES = ("parts", "locations", "part_inventories", "procedures", "steps", "runs", "run_steps",
          "run_fields", "issues")


def _json(body):
    import json
    if not body:
        return {}
    return json.loads(body.decode("utf-8"))


def _bad(message, status=400):
    return status, JSON, {"error": message}


def _record(sim, spec):
    table = spec.get("table")
    if table not in TABLES:
        raise ValueError("table: expected one of %s, got %r" % (", ".join(TABLES), table))
    try:
        rec_id = int(spec.get("id"))
    except (TypeError, ValueError):
        raise ValueError("id: expected an integer, got %r" % spec.get("id"))
    rec = getattr(sim.store, table).get(rec_id)
    if rec is None:
        raise LookupError("%s %d not found" % (table, rec_id))
    return rec


def _edit(sim, spec, fields):
    from .api import now_iso
    from .rules import refresh_run
    with sim.lock:
        rec = _record(sim, spec)
        if not isinstance(fields, dict) or "id" in fields:
            raise ValueError("fields: expected an object without 'id'")
        sim.store.update(spec["table"], rec, fields)
        sim.store.touch(rec)
        if "runId" in rec and rec["runId"] in sim.store.runs:
            refresh_run(sim.store, sim.store.runs[rec["runId"]], now_iso())
        return dict(rec)


def _config(sim, server, body):
    allowed = {"etag_conflict_status": (200, 409), "validation_error_status": (200, 400)}
    with sim.lock:
        for key, value in body.items():
            if key in allowed:
                if value not in allowed[key]:
                    raise ValueError("%s: expected one of %s, got %r" % (key, allowed[key], value))
                setattr(sim.config, key, value)
            elif key == "token_ttl":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError("token_ttl: expected whole seconds >= 1, got %r" % (value,))
                sim.config.token_ttl = value
            elif key == "max_root_fields":
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError("max_root_fields: expected a count >= 0, got %r" % (value,))
                sim.config.max_root_fields = value
            elif key == "upload_url_ttl":
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise ValueError("upload_url_ttl: expected seconds >= 0, got %r" % (value,))
                sim.config.upload_url_ttl = value
            elif key == "fault_seed":
                server.faults.seed(value)
            else:
                raise ValueError("unknown config key %r" % key)
        return sim.config.as_dict()


def admin(server, method, url, body):
    sim = server.sim
    path = url.path.rstrip("/")
    query = urllib.parse.parse_qs(url.query)
    try:
        data = _json(body) if method in ("POST", "PUT") else {}
        return _admin(server, sim, method, path, query, data)
    except FaultSpecError as e:
        return _bad(str(e))
    except ValueError as e:
        return _bad("admin: %s: %s" % (path, e))
    except LookupError as e:
        return _bad("admin: %s: %s" % (path, e.args[0]), 404)


def _admin(server, sim, method, path, query, data):
    route = (method, path)
    if route == ("GET", "/_sim/health"):
        return 200, JSON, {"ok": True, "pid": os.getpid(), "connections": server.connections,
                           "tls_resumed": server.tls_resumed}
    if route == ("GET", "/_sim/state"):
        return 200, JSON, sim.state()
    if route == ("GET", "/_sim/log"):
        since = int(query.get("since", ["0"])[0])
        limit = int(query["limit"][0]) if "limit" in query else None
        return 200, JSON, sim.log_since(since, limit)
    if route == ("DELETE", "/_sim/log"):
        with sim.log_lock:
            sim.log.clear()
        return 200, JSON, {"ok": True}
    if route == ("GET", "/_sim/faults"):
        return 200, JSON, {"faults": server.faults.list()}
    if route == ("POST", "/_sim/faults"):
        specs = data if isinstance(data, list) else [data]
        return 200, JSON, {"faults": [server.faults.add(s) for s in specs]}
    if route == ("DELETE", "/_sim/faults"):
        server.faults.clear()
        return 200, JSON, {"ok": True}
    if route == ("POST", "/_sim/tokens/expire"):
        with sim.lock:
            sim.tokens.expire_all()
        return 200, JSON, {"ok": True}
    if method == "POST" and path.startswith("/_sim/clients/"):
        return _client(sim, path)
    if route == ("GET", "/_sim/config"):
        return 200, JSON, sim.config.as_dict()
    if route == ("POST", "/_sim/config"):
        return 200, JSON, _config(sim, server, data)
    if route == ("POST", "/_sim/touch"):
        return 200, JSON, _edit(sim, data, {})
    if route == ("POST", "/_sim/set"):
        return 200, JSON, _edit(sim, data, data.get("fields"))
    if route == ("POST", "/_sim/storage/expire"):
        with sim.lock:
            sim.storage.expire_all()
        return 200, JSON, {"ok": True}
    if route == ("POST", "/_sim/reset"):
        sim.reset()
        server.faults.clear()
        return 200, JSON, {"ok": True}
    return _bad("admin: no route %s %s" % (method, path), 404)


def _client(sim, path):
    parts = path.split("/")  # ['', '_sim', 'clients', id, action]
    if len(parts) != 5 or parts[4] not in ("revoke", "restore"):
        return _bad("admin: expected /_sim/clients/<client_id>/revoke|restore", 404)
    client_id = urllib.parse.unquote(parts[3])
    with sim.lock:
        if client_id not in sim.store.api_keys:
            return _bad("admin: unknown client %r" % client_id, 404)
        if parts[4] == "revoke":
            sim.tokens.revoked.add(client_id)
        else:
            sim.tokens.revoked.discard(client_id)
        return 200, JSON, {"client_id": client_id, "revoked": client_id in sim.tokens.revoked}
