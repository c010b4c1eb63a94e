#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lints deploy/yocto/meta-ion-agent and deploy/buildroot without BitBake or Buildroot.
# Uses Debian's python3 (kconfiglib from python3-kconfiglib when installed). See
# lint_metadata.py for what is checked. Extra arguments go to it (--root, --yocto, --buildroot).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$here/lint_metadata.py" "$@"
