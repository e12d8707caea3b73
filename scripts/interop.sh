#!/usr/bin/env bash
# Interop check: the official SDK durable-workflow==0.4.84, installed from PyPI into its own
# virtualenv, runs the documented quickstart against our `dw server:start-dev` over a real socket.
set -euo pipefail
cd "$(dirname "$0")/.."
IVENV=${INTEROP_VENV:-.interop-venv}
if [ ! -x "$IVENV/bin/python" ] || ! "$IVENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('durable-workflow') != '0.4.84')" 2>/dev/null; then
    echo "==> installing durable-workflow==0.4.84 into $IVENV"
    rm -rf "$IVENV"
    python3 -m venv "$IVENV"
    "$IVENV/bin/python" -m pip install -q --upgrade pip
    "$IVENV/bin/python" -m pip install -q "durable-workflow==0.4.84"
fi
expected="{'greeting': 'Hello, world!', 'length': 5}"
out=$(QUICKSTART_DB="$(mktemp -d)/interop.sqlite3" scripts/quickstart.sh "$IVENV/bin/python")
echo "$out"
if [ "$(echo "$out" | tail -n 1)" != "$expected" ]; then
    echo "interop: the official SDK did not print the documented result" >&2
    exit 1
fi
echo "interop: official SDK 0.4.84 ran the quickstart against our server"
