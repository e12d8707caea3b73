#!/usr/bin/env bash
# `make test`: the whole suite, from a clean clone. Lint, types, import contracts, tests on SQLite
# and PostgreSQL, then the interop check with the official SDK. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
scripts/bootstrap.sh

# PostgreSQL: the server suite runs a second time against it when DW_TEST_POSTGRES_URL is set.
if [ -z "${DW_TEST_POSTGRES_URL:-}" ]; then
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "==> starting the local PostgreSQL cluster"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    fi
    if "$VENV/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2).close()" 2>/dev/null; then
        export DW_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:5432/test"
    fi
fi
if [ -n "${DW_TEST_POSTGRES_URL:-}" ]; then
    echo "==> PostgreSQL tests enabled: $DW_TEST_POSTGRES_URL"
else
    echo "==> PostgreSQL not reachable: server tests run on SQLite only"
fi

echo "==> ruff"
"$VENV/bin/ruff" check src tests benchmarks examples scripts
"$VENV/bin/ruff" format --check src tests benchmarks examples scripts
echo "==> mypy --strict src"
"$VENV/bin/mypy"
echo "==> import contracts"
"$VENV/bin/lint-imports"
echo "==> pytest"
"$VENV/bin/pytest" -q -p no:cacheprovider "$@"
echo "==> interop with durable-workflow==0.4.84"
scripts/interop.sh
