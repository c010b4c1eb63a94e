# SPDX-License-Identifier: Apache-2.0
"""GraphQL root resolvers (queries and mutations) over a Store.

`Root(store, user_id)` is the root value for one request; `f_<field>` methods resolve root
fields, record views resolve computed fields of nested types (see gql.resolve_field).
Lists are Relay connections with first/after/last/before, filters are ION's
`{field: {eq|neq|in|notIn|ilike|like: value}}` (ANDed, nested `part: {...}` on inventories).
Callers hold the store lock while executing.
"""

import base64
import datetime
import functools
import re

from .gql import SimError
from .store import OPEN_RUN_STATUSES


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_id(value, what):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError("Invalid id for %s: %r" % (what, value), "VALIDATION_ERROR")


def not_found(kind, rec_id):
    return SimError("%s %s not found" % (kind, rec_id), "NOT_FOUND")


def check_etag(rec, given):
    # The real error text and code ([TS] production traffic); the HTTP status is configurable.
    if given != rec["_etag"]:
        raise SimError("Etag does not match", "CONCURRENCY_ERROR")


# ---- record views ------------------------------------------------------------------------


class View:
    __slots__ = ("s", "r")

    def __init__(self, store, rec):
        self.s = store
        self.r = rec

    def get(self, name):
        return self.r.get(name)

    def f_labels(self):
        return self.r.get("labels") or []


def view(cls, store, rec):
    return None if rec is None else cls(store, rec)


class PartView(View):
    __slots__ = ()


class LocationView(View):
    __slots__ = ()


class InventoryView(View):
    __slots__ = ()

    def f_part(self):
        return view(PartView, self.s, self.s.parts.get(self.r["partId"]))

    def f_location(self):
        return view(LocationView, self.s, self.s.locations.get(self.r.get("locationId")))

    def f_status(self):
        # ION computes status from relationships ([MAN] inventory-status); modelled subset.
        r = self.r
        if r.get("status") in ("INSTALLED", "SCRAPPED", "KITTED"):
            return r["status"]
        if r.get("unavailable") or not r.get("quantity"):
            return "UNAVAILABLE"
        for run_id in self.s.runs_by_inventory.get(r["id"], ()):
            if self.s.runs[run_id]["status"] in OPEN_RUN_STATUSES:
                return "WIP"
        return "AVAILABLE"

    def f_quantityAvailable(self):
        return self.r.get("quantity") if self.f_status() == "AVAILABLE" else 0

    def f_installed(self):
        return self.r.get("status") == "INSTALLED"

    def f_kitted(self):
        return self.r.get("status") == "KITTED"

    def f_received(self):
        return True

    def f_unavailable(self):
        return bool(self.r.get("unavailable"))

    def f_abomItems(self):
        return []

    def f_abomInstallations(self):
        return []

    def f_buildRequirements(self):
        return []


class StepView(View):
    __slots__ = ()

    def f_steps(self):
        return []


class ProcedureView(View):
    __slots__ = ()

    def f_steps(self):
        return [StepView(self.s, self.s.steps[i]) for i in self.r["steps"]]


class FileAttachmentView(View):
    __slots__ = ()


class RunStepView(View):
    __slots__ = ()

    def f_fields(self):
        return [View(self.s, self.s.run_fields[i]) for i in self.r["fields"]]

    def f_fileAttachments(self):
        ids = sorted(self.s.lookup("file_attachments", "targetEntityId", self.r.get("entityId")))
        return [FileAttachmentView(self.s, self.s.file_attachments[i]) for i in ids]

    def f_steps(self):
        return []


class RunView(View):
    __slots__ = ()

    def f_procedure(self):
        return view(ProcedureView, self.s, self.s.procedures.get(self.r["procedureId"]))

    def f_partInventory(self):
        return view(InventoryView, self.s, self.s.part_inventories.get(self.r.get("partInventoryId")))

    def f_steps(self):
        return [RunStepView(self.s, self.s.run_steps[i]) for i in self.r["steps"]]


class UserView(View):
    __slots__ = ()

    def f_organization(self):
        return self.s.organization

    def f_organizationId(self):
        return self.s.organization.get("id")


# ---- filters and connections -------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _like_regex(pattern, ignore_case):
    if "%" not in pattern and "_" not in pattern:
        body = re.escape(pattern)
    else:
        body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _norm(value):
    return value if value is None or isinstance(value, bool) else str(value)


def _cond_ok(value, cond):
    v = _norm(value)
    for op, arg in cond.items():
        if arg is None:
            continue
        if op == "eq" and v != _norm(arg):
            return False
        if op == "neq" and v == _norm(arg):
            return False
        if op == "in" and v not in {_norm(a) for a in arg}:
            return False
        if op == "notIn" and v in {_norm(a) for a in arg}:
            return False
        if op in ("ilike", "like"):
            if v is None or not _like_regex(arg, op == "ilike").fullmatch(str(v)):
                return False
    return True


def _value_of(v, name):
    fn = getattr(v, "f_" + name, None)
    return fn() if fn is not None else v.get(name)


def matches(v, filters):
    for key, cond in (filters or {}).items():
        if cond is None:
            continue
        if key == "part":
            sub = v.f_part()
            if sub is None or not matches(sub, cond):
                return False
        elif not _cond_ok(_value_of(v, key), cond):
            return False
    return True


def _cursor(offset):
    return base64.b64encode(("arrayconnection:%d" % offset).encode()).decode()


def _cursor_offset(cursor):
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = text.partition(":")
        if prefix != "arrayconnection":
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise SimError("Invalid cursor: %r" % cursor, "VALIDATION_ERROR")


def connection(views, first=None, after=None, last=None, before=None, sort=None):
    if sort and sort[0] and sort[0].endswith("_DESC"):
        views = list(reversed(views))
    total = len(views)
    start, end = 0, total
    if after:
        start = max(start, _cursor_offset(after) + 1)
    if before:
        end = min(end, _cursor_offset(before))
    if first is not None:
        if first < 0:
            raise SimError("Argument 'first' must be a non-negative integer", "VALIDATION_ERROR")
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    page = views[start:end] if start < end else []
    edges = [{"node": v, "cursor": _cursor(start + i)} for i, v in enumerate(page)]
    return {
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": end < total,
            "hasPreviousPage": start > 0,
            "totalCount": total,
            "count": len(page),
        },
    }


def _candidates(store, table, filters):
    """Ids an indexed eq/in condition narrows the search to, or None (scan the table)."""
    best = None
    for key, cond in (filters or {}).items():
        if not cond or key == "part":
            continue
        if key != "id" and (table, key) not in store.indexes:
            continue
        values = [cond["eq"]] if cond.get("eq") is not None else cond.get("in")
        if values is None:
            continue
        if key == "id":
            ids = {int(v) for v in values if str(v).isdigit()}
        else:
            ids = set().union(*(store.lookup(table, key, v) for v in values)) if values else set()
        if best is None or len(ids) < len(best):
            best = ids
    return best


def _listing(store, table, cls, filters, args):
    rows = getattr(store, table)
    ids = _candidates(store, table, filters)
    records = rows.values() if ids is None else [rows[i] for i in sorted(ids) if i in rows]
    views = [cls(store, r) for r in records]
    if filters:
        views = [v for v in views if matches(v, filters)]
    return connection(views, args.get("first"), args.get("after"), args.get("last"),
                      args.get("before"), args.get("sort"))


def _not_modelled(name):
    raise SimError("ion-sim: %s is not modelled by the simulator" % name, "NOT_IMPLEMENTED")
