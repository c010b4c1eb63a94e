# SPDX-License-Identifier: Apache-2.0
"""The Query and Mutation root for one request (agent/ion/README.md §5).

A Root is built per request with the caller's user id; the server holds the store lock while
the engine executes, so every mutation is atomic with respect to other requests. A mutation
validates everything first and writes last, so a rejected mutation changes nothing.
"""

import mimetypes
import urllib.parse
import uuid

from . import rules
from .api import (FileAttachmentView, InventoryView, LocationView, PartView, ProcedureView, RunStepView, RunView,
                  StepView, UserView, View, _listing, _not_modelled, check_etag,
                  not_found, now_iso, parse_id, view)
from .gql import SimError
from . import storage as storage_mod
from .store import new_etag


def _lookup(table, raw_id, kind):
    rec = table.get(parse_id(raw_id, kind))
    if rec is None:
        raise not_found(kind, raw_id)
    return rec


def _merge_attributes(rec, attributes):
    """[TS]: writing an existing attribute needs that attribute's current Etag."""
    current = {a["key"]: a for a in rec.setdefault("attributes", [])}
    for a in attributes or []:
        old = current.get(a["key"])
        if old is not None and a.get("etag") != old.get("Etag"):
            raise SimError("Etag does not match", "CONCURRENCY_ERROR")
    for a in attributes or []:
        old = current.get(a["key"])
        if old is None:
            old = {"key": a["key"], "type": "STRING"}
            rec["attributes"].append(old)
            current[a["key"]] = old
        old["value"] = a.get("value")
        old["Etag"] = new_etag()


def _content_type(filename):
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


# Tables whose records have an entityId a file can be attached to.
ATTACHABLE = ("run_steps", "runs", "part_inventories", "issues", "parts", "locations")


class QueryRoot:
    def __init__(self, store, user_id, storage=None, base_url="https://127.0.0.1", upload_ttl=300):
        self.s = store
        self.user_id = user_id
        self.s_storage = storage
        self.base_url = base_url
        self.upload_ttl = upload_ttl

    def f_me(self):
        return view(UserView, self.s, self.s.users.get(self.user_id))

    f_currentUser = f_me

    def _one(self, table, cls, raw_id):
        # Guessed: unknown ids read as null (graphene's usual behaviour), not as an error.
        return view(cls, self.s, getattr(self.s, table).get(parse_id(raw_id, table)))

    def f_part(self, id):
        return self._one("parts", PartView, id)

    def f_parts(self, filters=None, **args):
        return _listing(self.s, "parts", PartView, filters, args)

    def f_partInventory(self, id):
        return self._one("part_inventories", InventoryView, id)

    def f_partInventories(self, filters=None, **args):
        return _listing(self.s, "part_inventories", InventoryView, filters, args)

    def f_location(self, id):
        return self._one("locations", LocationView, id)

    def f_locations(self, filters=None, **args):
        return _listing(self.s, "locations", LocationView, filters, args)

    def f_procedure(self, id):
        return self._one("procedures", ProcedureView, id)

    def f_procedures(self, filters=None, **args):
        return _listing(self.s, "procedures", ProcedureView, filters, args)

    def f_step(self, id):
        return self._one("steps", StepView, id)

    def f_run(self, id):
        return self._one("runs", RunView, id)

    def f_runs(self, filters=None, **args):
        return _listing(self.s, "runs", RunView, filters, args)

    def f_runStep(self, id):
        return self._one("run_steps", RunStepView, id)

    def f_issues(self, filters=None, **args):
        return _listing(self.s, "issues", View, filters, args)

    def f_fileAttachment(self, id):
        return self._one("file_attachments", FileAttachmentView, id)

    def f_requestFileUploadUrl(self, filename):
        # [DOCS] flow B step 1: a URL for a key of its own; createFileAttachment {s3Key} later.
        if not filename:
            raise SimError("filename must not be empty", "VALIDATION_ERROR")
        key = "uploads/%s/%s" % (uuid.uuid4().hex, filename)
        ctype = _content_type(filename)
        url = self.s_storage.presign(self.base_url, key, ctype, self.upload_ttl)
        return {"uploadUrl": url, "s3Key": key, "contentType": ctype}


class Root(QueryRoot):
    """Query fields plus the mutations the agent uses; the rest answer NOT_IMPLEMENTED."""

    # ---- parts and locations ---------------------------------------------------------

    def f_createPart(self, input):
        pn, rev = input["partNumber"], input.get("revision")
        if any(p["partNumber"] == pn and p.get("revision") == rev for p in self.s.parts.values()):
            raise SimError("Part %s revision %s already exists" % (pn, rev), "VALIDATION_ERROR")
        fields = {k: input.get(k) for k in ("partNumber", "description", "revision", "partType",
                                            "trackingType", "maintenanceIntervalSeconds")}
        fields.update(status="RELEASED", isLatestRevision=True, attributes=[])
        if fields["partType"] is None:
            fields["partType"] = "PART"
        rec = self.s.new_record("parts", fields)
        _merge_attributes(rec, input.get("attributes"))
        return {"part": PartView(self.s, rec)}

    def f_updatePart(self, input):
        rec = _lookup(self.s.parts, input["id"], "Part")
        check_etag(rec, input["etag"])
        self.s.update("parts", rec, {k: input[k] for k in ("description", "revision", "partType", "trackingType",
                                                            "maintenanceIntervalSeconds") if input.get(k) is not None})
        _merge_attributes(rec, input.get("attributes"))
        self.s.touch(rec)
        return {"part": PartView(self.s, rec)}

    def f_createLocation(self, input):
        rec = self.s.new_record("locations", {"name": input["name"]})
        return {"location": LocationView(self.s, rec)}

    # ---- part inventory ----------------------------------------------------------------

    def _check_serial(self, part, serial, quantity, own_id=None):
        if part.get("trackingType") == "SERIAL":
            if quantity is not None and quantity not in (0, 1):
                raise SimError("Serial-tracked inventory of part %s must have quantity 1, got %s"
                               % (part["partNumber"], quantity), "VALIDATION_ERROR")
            for inv_id in self.s.lookup("part_inventories", "serialNumber", serial) if serial is not None else ():
                inv = self.s.part_inventories[inv_id]
                if inv["partId"] == part["id"] and inv_id != own_id:
                    raise SimError("Serial number %s already exists for part %s"
                                   % (serial, part["partNumber"]), "VALIDATION_ERROR")
        elif serial is not None:
            raise SimError("Part %s is not serial-tracked; serialNumber not allowed" % part["partNumber"],
                           "VALIDATION_ERROR")

    def f_createPartInventory(self, input):
        part = _lookup(self.s.parts, input["partId"], "Part")
        serial = input.get("serialNumber")
        serial_tracked = part.get("trackingType") == "SERIAL"
        quantity = input.get("quantity", 1 if serial_tracked else None)
        if quantity is None or quantity <= 0:
            raise SimError("Quantity must be greater than 0", "VALIDATION_ERROR")
        self._check_serial(part, serial, quantity)
        location_id = input.get("locationId")
        if location_id is not None:
            location_id = _lookup(self.s.locations, location_id, "Location")["id"]
        fields = {k: input.get(k) for k in ("lotNumber", "unitOfMeasureId", "cost", "lastMaintainedDate")}
        fields.update(partId=part["id"], serialNumber=serial, quantity=quantity, locationId=location_id,
                      unavailable=False, attributes=[], createdById=self.user_id)
        rec = self.s.new_record("part_inventories", fields)
        if serial_tracked and serial is None:
            self.s.update("part_inventories", rec, {"serialNumber": "%s-%d" % (part["partNumber"], rec["id"])})
        _merge_attributes(rec, input.get("attributes"))
        return {"partInventory": InventoryView(self.s, rec)}

    def f_updatePartInventory(self, input):
        rec = _lookup(self.s.part_inventories, input["id"], "PartInventory")
        check_etag(rec, input["etag"])
        part = self.s.parts[rec["partId"]]
        quantity = input.get("quantity")
        if quantity is not None and quantity < 0:
            raise SimError("Quantity must not be negative", "VALIDATION_ERROR")
        if "serialNumber" in input or quantity is not None:
            serial = input.get("serialNumber", rec.get("serialNumber"))
            self._check_serial(part, serial, quantity, rec["id"])
        if input.get("locationId") is not None:
            _lookup(self.s.locations, input["locationId"], "Location")
        for a in input.get("attributes") or []:  # validate before any write
            old = next((x for x in rec.get("attributes", []) if x["key"] == a["key"]), None)
            if old is not None and a.get("etag") != old.get("Etag"):
                raise SimError("Etag does not match", "CONCURRENCY_ERROR")
        changes = {k: input[k] for k in ("quantity", "serialNumber", "lotNumber", "unavailable", "lastMaintainedDate")
                   if input.get(k) is not None}
        if input.get("locationId") is not None:
            changes["locationId"] = parse_id(input["locationId"], "Location")
        self.s.update("part_inventories", rec, changes)
        _merge_attributes(rec, input.get("attributes"))
        self.s.touch(rec)
        return {"partInventory": InventoryView(self.s, rec)}

    def f_deletePartInventory(self, id, etag):
        rec = _lookup(self.s.part_inventories, id, "PartInventory")
        check_etag(rec, etag)
        if self.s.runs_by_inventory.get(rec["id"]):
            raise SimError("PartInventory %d has runs and cannot be deleted" % rec["id"], "VALIDATION_ERROR")
        self.s.delete("part_inventories", rec["id"])
        return {"id": rec["id"]}

    # ---- runs ----------------------------------------------------------------------------

    def f_createRun(self, input):
        proc = _lookup(self.s.procedures, input["procedureId"], "Procedure")
        inv = None
        if input.get("partInventoryId") is not None:
            inv = _lookup(self.s.part_inventories, input["partInventoryId"], "PartInventory")
        part_id = parse_id(input["partId"], "Part") if input.get("partId") is not None else None
        if part_id is not None and part_id not in self.s.parts:
            raise not_found("Part", part_id)
        title = input.get("title")
        if not title:
            if inv is not None:  # [IMP]'s default title
                part = self.s.parts[inv["partId"]]
                title = "%s - %s - %s" % (part["partNumber"], inv.get("serialNumber") or inv.get("lotNumber")
                                          or inv["id"], proc["title"])
            else:
                title = proc["title"]
        run = self.s.instantiate_run(proc["id"], inv["id"] if inv else None, title, part_id)
        rules.refresh_run(self.s, run, now_iso())
        return {"run": RunView(self.s, run)}

    def f_updateRun(self, input):
        # docs-only in [DOCS]; real code drives run status through its steps.
        raise SimError("updateRun is not supported: a run's status is derived from its steps",
                       "NOT_IMPLEMENTED")

    def f_updateRunStep(self, input):
        step = _lookup(self.s.run_steps, input["id"], "RunStep")
        check_etag(step, input["etag"])
        status = input.get("status")
        changed = status is not None and rules.check_transition(self.s, step, status)
        for k in ("title", "content"):
            if input.get(k) is not None and input[k] != step[k]:
                step[k] = input[k]
                changed = True
        if status is not None:
            step["status"] = status
        if changed:
            self.s.touch(step)
            rules.refresh_run(self.s, self.s.runs[step["runId"]], now_iso())
        return {"runStep": RunStepView(self.s, step)}

    def f_createRunStep(self, input):
        run = _lookup(self.s.runs, input["runId"], "Run")
        position = max((self.s.run_steps[i]["position"] or 0 for i in run["steps"]), default=0) + 1
        step = self.s.new_record("run_steps", {
            "runId": run["id"], "title": input["title"], "content": input.get("content"),
            "status": "REDLINE", "position": position, "procedureStepId": None,
            "createdById": self.user_id, "fields": [], "upstreamStepIds": [],
        })
        run["steps"].append(step["id"])
        rules.refresh_run(self.s, run, now_iso())
        return {"step": RunStepView(self.s, step)}

    def f_createRunStepField(self, input):
        step = _lookup(self.s.run_steps, input["runStepId"], "RunStep")
        if step["status"] != "REDLINE":
            raise SimError("Fields can only be added to run step %d while it is in REDLINE" % step["id"],
                           "VALIDATION_ERROR")
        field = self.s.new_record("run_fields", {
            "runStepId": step["id"], "name": input["name"], "type": input["type"],
            "required": bool(input.get("required")), "unit": None, "options": None,
            "validation": None, "templateFieldId": None, "value": None,
        })
        step["fields"].append(field["id"])
        return {"runStepField": View(self.s, field)}

    def f_updateRunStepFieldValue(self, input):
        field = _lookup(self.s.run_fields, input["id"], "RunStepField")
        check_etag(field, input["etag"])
        step = self.s.run_steps[field["runStepId"]]
        if step["status"] not in rules.EDITABLE_STEP_STATUSES:
            raise SimError("Run step %d is %s; field values can only change while it is IN_PROGRESS"
                           % (step["id"], step["status"]), "VALIDATION_ERROR")
        value = input.get("value")
        rules.check_value(field, value)
        field["value"] = value
        self.s.touch(field)
        return {"runStepField": View(self.s, field)}

    # ---- issues --------------------------------------------------------------------------

    def f_createIssue(self, input):
        inv_id = step_id = None
        if input.get("partInventoryId") is not None:
            inv_id = _lookup(self.s.part_inventories, input["partInventoryId"], "PartInventory")["id"]
        if input.get("runStepId") is not None:
            step_id = _lookup(self.s.run_steps, input["runStepId"], "RunStep")["id"]
        rec = self.s.new_record("issues", {
            "title": input.get("title"), "status": "OPEN", "partInventoryId": inv_id,
            "runStepId": step_id, "causeCondition": input.get("causeCondition"),
            "attributes": [], "createdById": self.user_id,
        })
        return {"issue": View(self.s, rec)}

    def f_updateIssueAttribute(self, input):
        rec = _lookup(self.s.issues, input["issueId"], "Issue")
        _merge_attributes(rec, [{"key": input["key"], "value": input.get("value"), "etag": input.get("etag")}])
        self.s.touch(rec)
        return {"issueAttribute": next(a for a in rec["attributes"] if a["key"] == input["key"])}


def _create_file_attachment(self, input):
    # [EX] flow A: {entityId, filename} -> the attachment + an uploadUrl for its bytes.
    # [DOCS] flow B: {entityId, filename, s3Key, s3Etag} after the bytes went to s3Key.
    try:
        entity = int(input["entityId"])
    except (TypeError, ValueError):
        raise SimError("Invalid id for entityId: %r" % input["entityId"], "VALIDATION_ERROR")
    if not any(r.get("entityId") == entity for t in ATTACHABLE for r in getattr(self.s, t).values()):
        raise SimError("Entity %s not found" % input["entityId"], "NOT_FOUND")
    filename = input["filename"]
    if not filename or "/" in filename:
        raise SimError("filename must be a non-empty name without '/'", "VALIDATION_ERROR")
    key = input.get("s3Key")
    blob = None
    if key is not None:
        blob = self.s_storage.blobs.get(key)
        if blob is None:
            raise SimError("No uploaded object at s3Key %s" % key, "VALIDATION_ERROR")
    rec = self.s.new_record("file_attachments", {
        "entityId": entity, "targetEntityId": entity, "filename": filename,
        "contentType": _content_type(filename), "s3Bucket": storage_mod.BUCKET, "size": None,
        "sha256": None, "createdById": self.user_id, "integrationFetchUrl": None, "integrationId": None,
    })
    if key is None:
        key = "attachments/%d/%s" % (rec["id"], filename)
    base = self.base_url + "/storage/%s/%s" % (storage_mod.BUCKET, urllib.parse.quote(key))
    rec.update(s3Key=key, url=base, downloadUrl=base)
    upload_url = None
    if blob is not None:
        rec.update(storage_mod.describe_blob(blob))
    else:
        upload_url = self.s_storage.presign(self.base_url, key, rec["contentType"], self.upload_ttl, rec["id"])
    return {"fileAttachment": FileAttachmentView(self.s, rec), "uploadUrl": upload_url}


Root.f_createFileAttachment = _create_file_attachment


def _stub(name):
    def fn(self, **_args):
        _not_modelled(name)
    return fn


for _name in ("createAbomForPartInventory", "updateAbomItem", "deleteAbomInstallation",
              "adjustInventory", "createProcedure", "updateRunAttribute", "setDatagridValue",
              "createAsset", "createBarcodeLabel", "addLabelToItem",
              "removeLabelFromItem", "receivePurchaseOrderLine", "deleteReceipt", "createApiKey"):
    setattr(Root, "f_" + _name, _stub(_name))
