# SPDX-License-Identifier: Apache-2.0
"""Fault injection: an ordered list of armed faults, consumed by matching requests.

A fault is armed through POST /_sim/faults (or simctl fault ...) and fires on the next
requests that match it (endpoint, operation name, mutations only), `count` times (null =
until cleared), each time with `probability`. Kinds:
  status            answer `status` (500/502/503/...) before applying anything
  rate_limit        answer 429, with `Retry-After: retry_after` when retry_after is set
  delay             sleep `seconds`, then handle the request normally
  close             close the connection before the request is applied (no reply)
  drop_after_apply  apply the request, then close the connection without replying
  graphql_error     answer 200 with one GraphQL error (`message`, `code`), nothing applied; in a
                    document of several top-level fields (aliases, a batch) only the fields
                    `operation` names (else the first) fail, each with its error and `path`,
                    and the others execute
`reused_only: true` fires only on a request that is not the first on its connection (the
kept-alive case: `drop_after_apply` there is what tempts a client into a silent resend).
Any kind also takes `delay` (seconds to wait before acting, e.g. a 502 after 30 s).
On the storage endpoint (`match: storage`, an upload URL's PUT): `close` reads `after_bytes`
of the body (default: half of it) and then closes the connection (a PUT cut in transit,
nothing stored); `drop_after_apply` stores the bytes (the URL is used up) and closes without
an answer; `status` reads the body and answers `status` without storing; `expire` makes the
URL expired just before the PUT is checked (403 "Request has expired", as S3 after the
presigned URL's lifetime).
Thread-safety: one lock inside; the random source can be seeded for repeatable runs.
"""

import random
import threading

KINDS = ("status", "rate_limit", "delay", "close", "drop_after_apply", "graphql_error", "expire")
ENDPOINTS = ("graphql", "token", "storage", "any")


class FaultSpecError(ValueError):
    pass


def _number(spec, key, default, kind=float, minimum=None):
    value = spec.get(key, default)
    if value is None:
        return None
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise FaultSpecError("fault: %s: expected a number, got %r" % (key, spec.get(key)))
    if minimum is not None and value < minimum:
        raise FaultSpecError("fault: %s: must be >= %s, got %r" % (key, minimum, value))
    return value


def normalize(spec):
    """Checks an admin-supplied fault and fills defaults; raises FaultSpecError."""
    if not isinstance(spec, dict):
        raise FaultSpecError("fault: expected a JSON object")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultSpecError("fault: kind: expected one of %s, got %r" % (", ".join(KINDS), kind))
    match = spec.get("match", "graphql")
    if match not in ENDPOINTS:
        raise FaultSpecError("fault: match: expected one of %s, got %r" % (", ".join(ENDPOINTS), match))
    probability = _number(spec, "probability", 1.0, float, 0.0)
    if probability > 1.0:
        raise FaultSpecError("fault: probability: must be <= 1, got %r" % probability)
    default_count = None if "probability" in spec else 1
    out = {
        "kind": kind,
        "match": match,
        "operation": spec.get("operation"),
        "mutations_only": bool(spec.get("mutations_only", False)),
        "reused_only": bool(spec.get("reused_only", False)),
        "count": _number(spec, "count", default_count, int, 1),
        "probability": probability,
        "status": _number(spec, "status", 429 if kind == "rate_limit" else 503, int, 100),
        "retry_after": _number(spec, "retry_after", None, float, 0),
        "seconds": _number(spec, "seconds", 1.0, float, 0),
        "delay": _number(spec, "delay", 0.0, float, 0),
        "message": spec.get("message", "Rejected by a simulated ION Action"),
        "code": spec.get("code", "VALIDATION_ERROR"),
        "after_bytes": _number(spec, "after_bytes", None, int, 0),
        "hits": 0,
    }
    return out


class FaultTable:
    def __init__(self, seed=None):
        self._lock = threading.Lock()
        self._faults = []
        self._next_id = 1
        self._random = random.Random(seed)

    def add(self, spec):
        fault = normalize(spec)
        with self._lock:
            fault["id"] = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return dict(fault)

    def clear(self):
        with self._lock:
            self._faults = []

    def seed(self, value):
        with self._lock:
            self._random.seed(value)

    def list(self):
        with self._lock:
            return [dict(f) for f in self._faults]

    @staticmethod
    def _matches(fault, endpoint, operations, is_mutation, reused):
        if fault["match"] != "any" and fault["match"] != endpoint:
            return False
        if fault["reused_only"] and not reused:
            return False
        if fault["mutations_only"] and not is_mutation:
            return False
        if fault["operation"] and fault["operation"] not in operations:
            return False
        return True

    def take(self, endpoint, operations=(), is_mutation=False, reused=False):
        """The fault that fires for this request, if any (consumes one count)."""
        with self._lock:
            for fault in self._faults:
                if not self._matches(fault, endpoint, operations, is_mutation, reused):
                    continue
                if fault["probability"] < 1.0 and self._random.random() >= fault["probability"]:
                    continue
                fault["hits"] += 1
                if fault["count"] is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._faults.remove(fault)
                return dict(fault)
        return None
