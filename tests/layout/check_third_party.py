#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that the named agent stages compile without libcurl, SQLite or Mbed TLS headers.

Usage: check_third_party.py compile_commands.json AGENT_DIR STAGE...

For every source of each stage, the compile command from the compilation database is run
again with -M (the preprocessor lists every header it opens); a header of a forbidden library
anywhere in that list fails the check, naming the source and the header. A stage whose sources
are missing from the database fails too, so the check cannot pass by finding nothing.
"""
import json
import os
import shlex
import subprocess
import sys

FORBIDDEN = ("/curl/", "/sqlite3.h", "/sqlite3ext.h", "/mbedtls/", "/psa/")


def headers_of(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a in ("-c",) or a.startswith("-M"):
            continue
        out.append(a)
    out += ["-M", "-MG"]
    r = subprocess.run(out, cwd=entry["directory"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{entry['file']}: preprocessing failed: {r.stderr.strip()}")
    return r.stdout.replace("\\\n", " ").split()[1:]


def main():
    db_path, agent_dir, stages = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3:]
    with open(db_path) as f:
        db = json.load(f)
    problems, checked = [], {s: 0 for s in stages}
    for entry in db:
        src = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        rel = os.path.relpath(src, agent_dir)
        stage = rel.split(os.sep)[0]
        if stage not in checked or rel.startswith(".."):
            continue
        checked[stage] += 1
        for h in headers_of(entry):
            if any(f in h for f in FORBIDDEN):
                problems.append(f"agent/{rel}: includes {h}")
    for s, n in checked.items():
        if n == 0:
            problems.append(f"agent/{s}: no sources in {db_path}")
    for p in problems:
        print(p)
    print(f"{sum(checked.values())} sources of {', '.join(stages)} checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
