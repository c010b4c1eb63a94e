# SPDX-License-Identifier: Apache-2.0
"""ION's domain rules for runs, run steps and run step fields (agent/ion/README.md §5.5-§5.7).

Pure functions over Store records; they raise SimError with a clear message naming the object
and what was wrong. Rules marked "guessed" are not documented by ION and are listed as such
in README.md.
"""

from .gql import SimError

# Allowed run step transitions. Documented ([MAN] runs-and-step-states): TODO -> IN_PROGRESS,
# IN_PROGRESS -> COMPLETE/HOLD/FAILED/REDLINE, FAILED -> TODO/REDLINE, CANCELED -> TODO,
# REDLINE -> TODO. COMPLETE -> IN_PROGRESS is what [EX] alter_completed_runs.py does.
# Guessed: cancelling from any open state, HOLD -> IN_PROGRESS (resume), COMPLETE -> REDLINE.
TRANSITIONS = {
    "TODO": {"IN_PROGRESS", "CANCELED"},
    "IN_PROGRESS": {"COMPLETE", "HOLD", "FAILED", "REDLINE", "CANCELED"},
    "HOLD": {"IN_PROGRESS", "REDLINE", "CANCELED"},
    "FAILED": {"TODO", "REDLINE"},
    "CANCELED": {"TODO"},
    "REDLINE": {"TODO", "CANCELED"},
    "COMPLETE": {"IN_PROGRESS", "REDLINE"},
}

# Field values may change while the step is being worked (guessed: ION's UI allows data entry
# only on a started step; [EX] starts the step before writing fields).
EDITABLE_STEP_STATUSES = {"IN_PROGRESS", "REDLINE"}


def derive_run_status(statuses):
    """Run status from its steps' statuses ([MAN]/[DOCS] runs overview)."""
    s = set(statuses)
    if not s:
        return "TODO"
    for dominant in ("FAILED", "REDLINE", "HOLD", "IN_PROGRESS"):
        if dominant in s:
            return dominant
    if s == {"TODO"}:
        return "TODO"
    if s == {"COMPLETE"}:
        return "COMPLETE"
    if s == {"CANCELED"}:
        return "CANCELED"
    if s <= {"COMPLETE", "CANCELED"}:
        return "PARTIAL_COMPLETE"
    if "COMPLETE" not in s:
        return "TODO"  # only TODO and CANCELED: nothing was worked yet (guessed)
    return "IN_PROGRESS"  # some steps done, the rest still to do (guessed)


def refresh_run(store, run, now_iso):
    """Re-derives a run's status; a change is a write to the run (new _etag, timestamps)."""
    status = derive_run_status(store.run_steps[i]["status"] for i in run["steps"])
    if status == run["status"]:
        return
    run["status"] = status
    store.touch(run)
    if status != "TODO" and run["startedAt"] is None:
        run["startedAt"] = now_iso
    run["completedAt"] = now_iso if status == "COMPLETE" else None


def _is_empty(value):
    return value is None or value == "" or value == []


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def check_value(field, value):
    """Rejects a value whose JSON type does not fit the field type."""
    if value is None:
        return
    ftype, name = field["type"], field["name"]
    bad = None
    if ftype == "NUMBER" and _as_number(value) is None:
        bad = "a number"
    elif ftype == "BOOLEAN" and not isinstance(value, bool):
        bad = "true or false"
    elif ftype in ("STRING", "DATETIME") and not isinstance(value, str):
        bad = "a string"
    elif ftype == "SELECT":
        options = field.get("options") or []
        if not isinstance(value, str) or (options and value not in options):
            bad = "one of %s" % options
    elif ftype == "MULTISELECT":
        options = field.get("options") or []
        if not isinstance(value, list) or (options and any(v not in options for v in value)):
            bad = "a list drawn from %s" % options
    if bad:
        raise SimError("Invalid value for run step field %d '%s' (%s): expected %s, got %r"
                       % (field["id"], name, ftype, bad, value), "VALIDATION_ERROR")


def out_of_range(field):
    """A description of the field's validation failure, or None."""
    limits = field.get("validation") or {}
    if field["type"] != "NUMBER" or _is_empty(field["value"]) or not limits:
        return None
    number = _as_number(field["value"])
    lo, hi = limits.get("min"), limits.get("max")
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return "'%s' = %s (allowed %s..%s)" % (field["name"], field["value"],
                                                "" if lo is None else lo, "" if hi is None else hi)
    return None


def check_transition(store, step, new_status):
    old = step["status"]
    if new_status == old:
        return False  # no change (guessed: ION accepts it as a no-op)
    if new_status not in TRANSITIONS.get(old, set()):
        raise SimError("Run step %d cannot change status from %s to %s" % (step["id"], old, new_status),
                       "VALIDATION_ERROR")
    if new_status == "IN_PROGRESS" and old in ("TODO", "HOLD"):
        waiting = [u for u in step["upstreamStepIds"] if store.run_steps[u]["status"] != "COMPLETE"]
        if waiting:
            raise SimError("Run step %d is not available to work: upstream steps %s are not COMPLETE"
                           % (step["id"], ", ".join(str(w) for w in waiting)), "VALIDATION_ERROR")
    if new_status == "COMPLETE":
        fields = [store.run_fields[i] for i in step["fields"]]
        missing = ["'%s'" % f["name"] for f in fields if f["required"] and _is_empty(f["value"])]
        bad = [r for r in (out_of_range(f) for f in fields) if r]
        if missing or bad:
            parts = []
            if missing:
                parts.append("required fields are empty: " + ", ".join(missing))
            if bad:
                parts.append("values out of range: " + ", ".join(bad))
            raise SimError("Run step %d cannot be completed: %s" % (step["id"], "; ".join(parts)),
                           "VALIDATION_ERROR")
    return True
