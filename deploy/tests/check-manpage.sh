#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lints the man page (groff with all warnings, man-db's --warnings) and, given the built
# binary, checks that every command `ion-agent --help` lists is documented under COMMANDS.
# Usage: check-manpage.sh MANPAGE [BINARY]
set -euo pipefail
page=$1 binary=${2:-}
fail() { echo "check-manpage: $*" >&2; exit 1; }

out=$(groff -man -ww -z "$page" 2>&1) || fail "groff failed: $out"
[ -z "$out" ] || fail "groff warnings: $out"
if command -v man >/dev/null 2>&1; then
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) || fail "man failed: $out"
  [ -z "$out" ] || fail "man warnings: $out"
fi
echo "check-manpage: $page: no warnings"

[ -n "$binary" ] || exit 0
commands=$("$binary" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$commands" ] || fail "'$binary --help' lists no commands"
section=$(awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH / { on = 0 } on' "$page")
missing=()
for c in $commands; do
  printf '%s\n' "$section" | grep -Eq "^\.(B|BR|BI)([[:space:]]|.*[^a-z-])$c([^a-z-]|\$)" || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] || fail "commands missing from COMMANDS in $page: ${missing[*]}"
echo "check-manpage: documents every command: $(echo $commands)"
