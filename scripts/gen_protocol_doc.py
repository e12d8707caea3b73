#!/usr/bin/env python3
"""Regenerate the route table of docs/protocol.md from the server's OpenAPI document.

    .venv/bin/python scripts/gen_protocol_doc.py          # rewrite the table in place
    .venv/bin/python scripts/gen_protocol_doc.py --check  # exit 1 when the table is stale

The table sits between the ``<!-- routes:begin -->`` and ``<!-- routes:end -->`` markers; the
prose around it is written by hand. A test runs ``render()`` and fails when the file is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
BEGIN, END = "<!-- routes:begin -->", "<!-- routes:end -->"


def _callers(plane: Any, op: Any) -> str:
    """The roles that may call ``op``: its own (admin-only routes), else its plane's."""
    if plane.roles is None:
        return "anyone"
    roles = op.roles or plane.roles
    order = ("worker", "operator", "admin")
    return ", ".join(role for role in order if role in roles)


def table() -> str:
    """The Markdown route table: one row per served operation, in routing order."""
    from durable_workflow_server.http.openapi import build_document
    from durable_workflow_server.http.table import PLANES
    from durable_workflow_server.settings import Settings

    document = build_document(PLANES, Settings())
    rows = [
        "| Method | Path | Operation | Callers | Request model | What it does |",
        "|---|---|---|---|---|---|",
    ]
    for plane in PLANES:
        for op in plane.operations:
            if not op.served:
                continue
            item = document["paths"]["/api" + op.path][op.method.lower()]
            body = item.get("requestBody", {}).get("content", {}).get("application/json", {})
            model = body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            described = f"`{model}` (body)" if model else ""
            if op.query is not None:
                described = f"{described}, " if described else ""
                described += f"`{op.query.__name__}` (query)"
            summary = (item.get("summary") or "").replace("|", "\\|")
            rows.append(
                f"| {op.method} | `/api{op.path}` | `{item['operationId']}` | {_callers(plane, op)} "
                f"| {described or '—'} | {summary} |"
            )
    return "\n".join(rows)


def render(text: str) -> str:
    """``text`` (the whole of docs/protocol.md) with its route table regenerated."""
    head, found, rest = text.partition(BEGIN)
    if not found or END not in rest:
        raise SystemExit(f"{DOC}: the {BEGIN} / {END} markers are missing")
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the table is stale")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current)
    if args.check:
        if fresh != current:
            print(f"{DOC} is stale: run scripts/gen_protocol_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
