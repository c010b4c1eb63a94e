# SPDX-License-Identifier: Apache-2.0
"""In-memory ION state seeded from a JSON fixture.

Records are plain dicts keyed by ION field names (`_etag`, `partNumber`, ...); tables map
id -> record and keep insertion (= id) order. Run-time ids come from fixed per-type ranges so
tests can tell types apart in logs. Not thread-safe by itself: the server holds one global
lock around every request that reads or writes a Store.
"""

import copy
import uuid

# First id handed out at run time, per table (documented in README.md).
ID_BASES = {
    "parts": 500,
    "locations": 50,
    "part_inventories": 5001,
    "runs": 2001,
    "run_steps": 20001,
    "run_fields": 200001,
    "issues": 3001,
    "file_attachments": 7001,
    "entities": 900001,
}

# Equality indexes kept up to date on every write (Store.new_record/update/delete), so the
# lookups the agent makes per intent (unit by serial, runs of a unit) stay O(1) when a
# benchmark has created tens of thousands of records.
INDEXED = {
    "parts": ("partNumber",),
    "file_attachments": ("targetEntityId",),
    "locations": ("name",),
    "part_inventories": ("serialNumber", "lotNumber", "partId", "locationId"),
    "runs": ("procedureId", "partInventoryId"),
    "issues": ("partInventoryId",),
}

# Run step statuses in which a run still holds its unit (the unit reads as WIP).
OPEN_RUN_STATUSES = {"TODO", "IN_PROGRESS", "REDLINE", "HOLD", "FAILED"}


class FixtureError(Exception):
    pass


def new_etag():
    # ION's _etag samples are 32 lower-case hex characters.
    return uuid.uuid4().hex


class Store:
    def __init__(self, fixture):
        self.fixture = copy.deepcopy(fixture)
        self.next_ids = dict(ID_BASES)
        self.organization = dict(fixture.get("organization") or {"id": 1, "domain": "example"})
        self.users = {u["id"]: dict(u) for u in fixture.get("users", [])}
        self.api_keys = self._load_keys(fixture)
        self.locations = {}
        self.parts = {}
        self.part_inventories = {}
        self.procedures = {}
        self.steps = {}  # procedure (template) steps
        self.runs = {}
        self.run_steps = {}
        self.run_fields = {}
        self.issues = {}
        self.file_attachments = {}  # records; their bytes live in storage.Storage
        self.runs_by_inventory = {}
        self.indexes = {(t, f): {} for t, fields in INDEXED.items() for f in fields}
        try:
            self._seed(fixture)
        except (KeyError, TypeError, ValueError) as e:
            raise FixtureError("fixture: %s: %r" % (type(e).__name__, e))

    # ---- ids and etags -------------------------------------------------------------------

    def alloc(self, table):
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def _bump_past(self, table, used_id):
        if used_id >= self.next_ids[table]:
            self.next_ids[table] = used_id + 1

    def touch(self, rec):
        rec["_etag"] = new_etag()

    def new_record(self, table, fields, rec_id=None):
        if rec_id is None:
            rec_id = self.alloc(table)
        else:
            self._bump_past(table, rec_id)
        rec = {"id": rec_id, "_etag": new_etag(), "entityId": self.alloc("entities")}
        rec.update(fields)
        getattr(self, table)[rec_id] = rec
        self._index(table, rec, True)
        return rec

    @staticmethod
    def index_key(value):
        return None if value is None else str(value)

    def _index(self, table, rec, add):
        for field in INDEXED.get(table, ()):
            bucket = self.indexes[(table, field)].setdefault(self.index_key(rec.get(field)), set())
            if add:
                bucket.add(rec["id"])
            else:
                bucket.discard(rec["id"])

    def update(self, table, rec, fields):
        """Writes fields of a stored record (keeps indexes right; the caller rotates _etag)."""
        self._index(table, rec, False)
        rec.update(fields)
        self._index(table, rec, True)

    def delete(self, table, rec_id):
        rec = getattr(self, table).pop(rec_id)
        self._index(table, rec, False)

    def lookup(self, table, field, value):
        """Ids of records whose field equals value (str-compared), from the index."""
        return self.indexes[(table, field)].get(self.index_key(value), set())

    # ---- seeding -------------------------------------------------------------------------

    @staticmethod
    def _load_keys(fixture):
        keys = {}
        if fixture.get("client_id"):
            keys[fixture["client_id"]] = {
                "client_secret": fixture["client_secret"],
                "user_id": fixture.get("user_id"),
            }
        for k in fixture.get("api_keys", []):
            keys[k["client_id"]] = {"client_secret": k["client_secret"], "user_id": k.get("user_id")}
        return keys

    def _seed(self, fx):
        for loc in fx.get("locations", []):
            self.new_record("locations", {"name": loc["name"]}, loc["id"])
        for p in fx.get("parts", []):
            fields = {k: v for k, v in p.items() if k != "id"}
            fields.setdefault("status", "RELEASED")
            fields.setdefault("isLatestRevision", True)
            fields["attributes"] = [dict(a, Etag=new_etag()) for a in p.get("attributes", [])]
            self.new_record("parts", fields, p["id"])
        for inv in fx.get("part_inventories", []):
            fields = {k: v for k, v in inv.items() if k != "id"}
            self._require(self.parts, fields["partId"], "part_inventories[%d].partId" % inv["id"])
            fields.setdefault("quantity", 1)
            fields.setdefault("unavailable", False)
            fields["attributes"] = [dict(a, Etag=new_etag()) for a in inv.get("attributes", [])]
            self.new_record("part_inventories", fields, inv["id"])
        for proc in fx.get("procedures", []):
            self._seed_procedure(proc)
        for run in fx.get("runs", []):
            self._seed_run(run)
        for issue in fx.get("issues", []):
            fields = {k: v for k, v in issue.items() if k != "id"}
            fields.setdefault("status", "OPEN")
            self.new_record("issues", fields, issue["id"])

    @staticmethod
    def _require(table, rec_id, where):
        if rec_id not in table:
            raise FixtureError("fixture: %s: unknown id %r" % (where, rec_id))

    def _seed_procedure(self, proc):
        step_ids = []
        for st in sorted(proc.get("steps", []), key=lambda s: s.get("position", 0)):
            fields = []
            for f in st.get("fields", []):
                tf = {"_etag": new_etag(), "required": False, "unit": None, "options": None}
                tf.update(f)
                fields.append(tf)
            rec = {
                "id": st["id"],
                "_etag": new_etag(),
                "entityId": self.alloc("entities"),
                "title": st.get("title"),
                "position": st.get("position"),
                "type": st.get("type", "content"),
                "content": st.get("content"),
                "procedureId": proc["id"],
                "locationId": st.get("locationId"),
                "parentId": None,
                "upstreamStepIds": list(st.get("upstreamStepIds", [])),
                "fields": fields,
            }
            self.steps[st["id"]] = rec
            step_ids.append(st["id"])
        self.procedures[proc["id"]] = {
            "id": proc["id"],
            "_etag": new_etag(),
            "title": proc.get("title"),
            "description": proc.get("description"),
            "type": proc.get("type"),
            "familyId": proc.get("familyId"),
            "attributes": proc.get("attributes", []),
            "steps": step_ids,
        }

    def _seed_run(self, run):
        self._require(self.procedures, run["procedureId"], "runs[%d].procedureId" % run["id"])
        statuses = {s["procedureStepId"]: s for s in run.get("steps", [])}
        rec = self.instantiate_run(run["procedureId"], run.get("partInventoryId"), run.get("title"),
                                   run.get("partId"), run["id"], statuses)
        from .rules import refresh_run  # rules depend on records only, not on Store
        refresh_run(self, rec, run.get("startedAt", "2026-11-01T08:00:00.000000Z"))
        return rec

    # ---- runs ----------------------------------------------------------------------------

    def instantiate_run(self, procedure_id, inventory_id, title, part_id, run_id=None, seeded=None):
        """Creates a run with one run step (and run step fields) per template step."""
        proc = self.procedures[procedure_id]
        inv = self.part_inventories.get(inventory_id) if inventory_id is not None else None
        if inv is not None and part_id is None:
            part_id = inv["partId"]
        run = self.new_record("runs", {
            "title": title, "procedureId": procedure_id, "partId": part_id,
            "partInventoryId": inventory_id, "steps": [], "attributes": [], "labels": [],
            "status": "TODO", "startedAt": None, "completedAt": None,
        }, run_id)
        step_map = {}
        for template_id in proc["steps"]:
            tmpl = self.steps[template_id]
            seed = (seeded or {}).get(template_id, {})
            step = self.new_record("run_steps", {
                "runId": run["id"], "title": tmpl["title"], "content": tmpl["content"],
                "status": seed.get("status", "TODO"), "position": tmpl["position"],
                "procedureStepId": template_id, "createdById": None, "fields": [],
                "upstreamStepIds": [],
            }, seed.get("id"))
            step_map[template_id] = step["id"]
            run["steps"].append(step["id"])
            for tf in tmpl["fields"]:
                field = self.new_record("run_fields", {
                    "runStepId": step["id"], "name": tf["name"], "type": tf["type"],
                    "unit": tf.get("unit"), "required": bool(tf.get("required")),
                    "options": tf.get("options"), "validation": tf.get("validation"),
                    "templateFieldId": tf["id"], "value": None,
                })
                step["fields"].append(field["id"])
        for template_id, step_id in step_map.items():
            ups = self.steps[template_id]["upstreamStepIds"]
            self.run_steps[step_id]["upstreamStepIds"] = [step_map[u] for u in ups if u in step_map]
        if inventory_id is not None:
            self.runs_by_inventory.setdefault(inventory_id, []).append(run["id"])
        return run

    # ---- observation ---------------------------------------------------------------------

    def dump(self):
        """Everything, JSON-ready, for tests to assert on (admin GET /_sim/state)."""
        def rows(table):
            return [copy.deepcopy(r) for r in table.values()]
        return {
            "organization": self.organization,
            "users": rows(self.users),
            "locations": rows(self.locations),
            "parts": rows(self.parts),
            "part_inventories": rows(self.part_inventories),
            "procedures": rows(self.procedures),
            "steps": rows(self.steps),
            "runs": rows(self.runs),
            "run_steps": rows(self.run_steps),
            "run_fields": rows(self.run_fields),
            "issues": rows(self.issues),
            "file_attachments": rows(self.file_attachments),
            "next_ids": dict(self.next_ids),
        }
