#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Lints udev rules files without udev: syntax (key, attribute, operator, quoting), operator
use per key (udev ignores a rule with KERNEL="x", where KERNEL=="x" was meant), GOTO targets
(must exist, later in the file), and the project's own conventions: USB ids as udev sees them
(4 lowercase hex digits, vendor and product together), symlinks named ion-scanner-*, and the
groups the service user is in. `udevadm verify` (systemd >= 253) is run as well by CI when a
recent udev is available. Exit status 1 with "file:line: reason" lines on any finding."""
import re
import sys

MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST"}
ASSIGN_ONLY = {"LABEL", "GOTO", "RUN", "OWNER", "GROUP", "MODE", "OPTIONS", "IMPORT", "SECLABEL"}
BOTH = {"NAME", "SYMLINK", "ATTR", "SYSCTL", "ENV", "TAG"}
NEEDS_ATTR = {"ATTR", "ATTRS", "ENV", "SYSCTL", "IMPORT", "SECLABEL", "CONST"}
OPTIONAL_ATTR = {"TEST", "RUN", "PROGRAM"}
GROUPS = {"gpio", "input", "dialout"}
TOKEN = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


def logical_lines(text):
    """Yields (line number, text) with backslash continuations joined."""
    buf, start = "", None
    for n, raw in enumerate(text.splitlines(), 1):
        if start is None:
            start = n
        if raw.endswith("\\"):
            buf += raw[:-1]
            continue
        yield start, buf + raw
        buf, start = "", None
    if start is not None:
        yield start, buf


def parse_rule(line):
    """Returns [(key, attr, op, value)] or raises ValueError naming the offset."""
    pos, out = 0, []
    while True:
        m = TOKEN.match(line, pos)
        if not m:
            raise ValueError(f"cannot parse at column {pos + 1}: {line[pos:pos + 30]!r}")
        out.append(m.groups())
        pos = m.end()
        if pos == len(line):
            return out
        if line[pos] != ",":
            raise ValueError(f"expected ',' at column {pos + 1}")
        pos += 1


def check_token(key, attr, op, value):
    if key not in MATCH_ONLY | ASSIGN_ONLY | BOTH:
        return f"unknown key {key}"
    if key in NEEDS_ATTR and attr is None:
        return f"{key} needs {{attribute}}"
    if attr is not None and key not in NEEDS_ATTR | OPTIONAL_ATTR:
        return f"{key} takes no {{attribute}}"
    if key in MATCH_ONLY and op not in ("==", "!="):
        return f"{key} is a match key: use == or !=, not {op}"
    if key in ASSIGN_ONLY and op in ("==", "!="):
        return f"{key} is an assignment key: {op} is not allowed"
    if key in ("ATTRS", "ATTR") and attr in ("idVendor", "idProduct") and op == "==":
        if not re.fullmatch(r"[0-9a-f]{4}", value):
            return f"{key}{{{attr}}}=={value!r}: sysfs shows 4 lowercase hex digits"
    if key == "GROUP" and value not in GROUPS:
        return f"GROUP={value!r}: the service user is only in {sorted(GROUPS)}"
    if key == "MODE" and not re.fullmatch(r"0[0-7]{3}", value):
        return f"MODE={value!r} is not an octal mode"
    if key == "MODE" and int(value, 8) & 0o007:
        return f"MODE={value}: no access for others"
    if key == "SYMLINK" and not value.startswith("ion-scanner-"):
        return f"SYMLINK={value!r}: scanner links are named ion-scanner-<name>"
    return None


def lint(path):
    errors, labels, gotos = [], {}, []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for n, line in logical_lines(text):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            tokens = parse_rule(line)
        except ValueError as e:
            errors.append(f"{path}:{n}: {e}")
            continue
        keys = {}
        for key, attr, op, value in tokens:
            msg = check_token(key, attr, op, value)
            if msg:
                errors.append(f"{path}:{n}: {msg}")
            keys.setdefault((key, attr), value)
            if key == "LABEL":
                if value in labels:
                    errors.append(f"{path}:{n}: LABEL {value!r} defined twice")
                labels[value] = n
            if key == "GOTO":
                gotos.append((n, value))
        if ("ATTRS", "idVendor") in keys and ("ATTRS", "idProduct") not in keys:
            errors.append(f"{path}:{n}: idVendor without idProduct matches every product")
    for n, target in gotos:
        if target not in labels:
            errors.append(f"{path}:{n}: GOTO {target!r} has no LABEL")
        elif labels[target] < n:
            errors.append(f"{path}:{n}: GOTO {target!r} jumps backwards (udev only jumps forward)")
    return errors


def main(paths):
    if not paths:
        print("usage: lint_udev.py RULES...", file=sys.stderr)
        return 2
    errors = [e for p in paths for e in lint(p)]
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"lint_udev: {len(paths)} file(s) clean")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
