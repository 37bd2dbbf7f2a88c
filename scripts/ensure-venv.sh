#!/usr/bin/env bash
# Create the virtualenv; on a bare Debian, install python3-venv first (as root) when venv is missing.
set -euo pipefail
PYTHON=${1:-python3}
VENV=${2:-.venv}
[ -x "$VENV/bin/python" ] && exit 0
if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[venv] installing python3-venv via apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  else
    echo "Python's venv module is missing: install python3-venv" >&2
    exit 1
  fi
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
