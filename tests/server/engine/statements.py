"""Recording the SQL statements an engine sends, to check what a path costs (or how it reads)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from durable_workflow_server.engine.service import Engine


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every ``(statement, parameters)`` ``engine`` sends inside the block, on either store."""
    seen: list[tuple[str, Any]] = []
    store_engine = engine.store._engine  # type: ignore[attr-defined]
    target = getattr(store_engine, "sync_engine", store_engine)  # PostgreSQL's is an AsyncEngine

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(target, "before_cursor_execute", record)
