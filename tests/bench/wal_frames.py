#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Where an outbox's WAL bytes go: frames per commit, by b-tree (table or index).

  tests/bench/wal_frames.py STATE_DIR/outbox.db [--last N]

Reads DB-wal as it is (run it while the agent holds the file open, before a checkpoint
empties the WAL, e.g. with a large wal_autocheckpoint in a test copy), maps every frame's page
to the b-tree that owns it (SQLite's dbstat table, read-only) and prints frames per commit for
each, then the pages of the last N commits. Each frame is one page plus 24 bytes; each commit
is fsynced (synchronous=FULL), so its frames are what an accepted event costs before the
checkpoint copies the pages into the main file.
"""
import argparse
import collections
import sqlite3
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--last", type=int, default=5)
    args = ap.parse_args()
    data = open(args.db + "-wal", "rb").read()
    if len(data) < 32:
        print("empty WAL")
        return
    psz = struct.unpack(">I", data[8:12])[0]
    con = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True)
    owner = {page: name for name, page in con.execute("SELECT name, pageno FROM dbstat")}
    salt = data[16:24]
    off, frames, commits, cur, per_commit = 32, 0, 0, [], []
    count = collections.Counter()
    while off + 24 + psz <= len(data):
        page, commit = struct.unpack(">II", data[off:off + 8])
        if data[off + 8:off + 16] != salt:
            break  # frames of an earlier WAL generation: not part of this one
        name = owner.get(page, "?")
        count[name] += 1
        frames += 1
        cur.append("%s:%d" % (name, page))
        if commit:
            commits += 1
            per_commit.append(cur)
            cur = []
        off += 24 + psz
    n = max(commits, 1)
    print("page size %d: %d frames in %d commits, %.2f frames (%.0f bytes) per commit" %
          (psz, frames, commits, frames / n, frames * (psz + 24) / n))
    for name, c in count.most_common():
        print("  %-28s %.2f frames/commit" % (name, c / n))
    for pages in per_commit[-args.last:]:
        print("  commit:", " ".join(pages))


if __name__ == "__main__":
    main()
