"""Recording the SQL statements an engine sends, to check what a path costs (or how it reads)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import PostgresStore


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every ``(statement, parameters)`` ``engine`` sends inside the block, on either store."""
    seen: list[tuple[str, Any]] = []
    store = engine.store
    if isinstance(store, PostgresStore):  # statements go to asyncpg directly: the tally hears them
        dialect = store._plans.dialect
        earlier = store.tally.recorder

        def heard(statement: Any, parameters: Any) -> None:
            sql = statement if isinstance(statement, str) else str(statement.compile(dialect=dialect))
            seen.append((sql, parameters))
            if earlier is not None:
                earlier(statement, parameters)

        store.tally.recorder = heard
        try:
            yield seen
        finally:
            store.tally.recorder = earlier
        return
    target = store._engine  # type: ignore[attr-defined]

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(target, "before_cursor_execute", record)
