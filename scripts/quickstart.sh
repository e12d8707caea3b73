#!/usr/bin/env bash
# `make quickstart`: start the embedded server, run examples/quickstart.py against it, stop the server.
# Usage: scripts/quickstart.sh [python-of-the-sdk-to-use]   (default: the project virtualenv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
SDK_PYTHON=${1:-$VENV/bin/python}
PORT=${QUICKSTART_PORT:-$("$VENV/bin/python" scripts/free_port.py)}
DB=${QUICKSTART_DB:-.quickstart.sqlite3}
LOG=$(mktemp)
export DW_AUTH_TOKEN=${DW_AUTH_TOKEN:-dev-token}

"$VENV/bin/dw" server:start-dev --port "$PORT" --db-file "$DB" >"$LOG" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$LOG"' EXIT

for _ in $(seq 1 200); do
    if "$VENV/bin/python" -c "import httpx,sys; sys.exit(0 if httpx.get('http://127.0.0.1:$PORT/api/ready').status_code == 200 else 1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "the server did not start:" >&2; cat "$LOG" >&2; exit 1
    fi
    sleep 0.1
done

DURABLE_WORKFLOW_SERVER_URL="http://127.0.0.1:$PORT" "$SDK_PYTHON" "${QUICKSTART_PROGRAM:-examples/quickstart.py}"
