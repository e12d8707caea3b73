#!/usr/bin/env bash
# Create (or refresh) the project virtualenv with every extra. Idempotent and quiet when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
extras=${EXTRAS:-server,postgres,cli,prometheus,s3,dev}
stamp="$VENV/.installed-${extras//,/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing durable-workflow with extras $extras"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[$extras]"
    touch "$stamp"
fi
