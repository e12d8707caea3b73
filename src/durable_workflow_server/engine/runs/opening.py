"""PostgreSQL: a new run's opening rows in one statement (one round trip instead of three).

:func:`~.lifecycle.create_run` writes a new run's history events, its ``workflow_runs`` row and
its first workflow task. None of those inserts answers anything the start needs, so on
PostgreSQL they go as data-modifying CTEs of one statement::

    WITH opening_events AS (INSERT INTO history_events ...),
         opening_run AS (INSERT INTO workflow_runs ...)
    INSERT INTO workflow_tasks ...

The rows are the ones the separate statements write, and the statement fails as they would (a
unique violation in any of them is the same ``IntegrityError``, the transaction's retry rules
see the same SQLSTATE). Nothing refers to another row by a foreign key, and the new rows are
the transaction's own, so no lock is taken in another order. SQLite has no data-modifying CTEs
(and its statements are calls inside the process): it keeps the separate statements.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import RunRow
from ..transaction import Tx

_he, _wr, _wt = t.history_events, t.workflow_runs, t.workflow_tasks
_EVENT_COLUMNS = tuple(c.name for c in _he.c)
_RUN_COLUMNS = tuple(c.name for c in _wr.c)


def _binds(prefix: str, table: sa.Table, columns: Sequence[str]) -> dict[str, Any]:
    return {name: sa.bindparam(prefix + name, type_=table.c[name].type) for name in columns}


@functools.lru_cache(maxsize=16)
def opening_insert(events: int, task_columns: tuple[str, ...]) -> sa.Insert:
    """The statement inserting ``events`` history rows (``e{i}_<column>``), a run
    (``r_<column>``) and a workflow task of ``task_columns`` (``t_<column>``): see the module."""
    statement = sa.insert(_wt).values(_binds("t_", _wt, task_columns))
    if events:
        rows = [_binds(f"e{i}_", _he, _EVENT_COLUMNS) for i in range(events)]
        statement = statement.add_cte(sa.insert(_he).values(rows).cte("opening_events"))
    return statement.add_cte(sa.insert(_wr).values(_binds("r_", _wr, _RUN_COLUMNS)).cte("opening_run"))


async def insert_opening(tx: Tx, run: RunRow, events: Sequence[dict[str, Any]], task: dict[str, Any]) -> None:
    """Insert ``events`` (history rows), ``run`` and its first workflow task ``task`` in one statement."""
    params: dict[str, Any] = {}
    for i, event in enumerate(events):
        prefix = f"e{i}_"
        for name in _EVENT_COLUMNS:
            params[prefix + name] = event[name]
    for name in _RUN_COLUMNS:
        params["r_" + name] = run[name]  # type: ignore[literal-required]
    for name, value in task.items():
        params["t_" + name] = value
    await tx.conn.execute(opening_insert(len(events), tuple(task)), params)
