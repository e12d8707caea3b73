"""docs/protocol.md's route table is generated from the served routes and must not go stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from durable_workflow_server.http.table import PLANES

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "gen_protocol_doc.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_protocol_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_route_table_in_docs_protocol_is_current() -> None:
    generator = _generator()
    current = generator.DOC.read_text(encoding="utf-8")
    assert generator.render(current) == current, "docs/protocol.md is stale: run scripts/gen_protocol_doc.py"


def test_every_served_route_has_a_row() -> None:
    table = _generator().table()
    served = [(op.method, op.path) for plane in PLANES for op in plane.operations if op.served]
    assert served, "the route table serves nothing"
    for method, path in served:
        assert f"| {method} | `/api{path}` |" in table
    assert len(table.splitlines()) == len(served) + 2
