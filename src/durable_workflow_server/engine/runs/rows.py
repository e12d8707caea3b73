"""``workflow_runs`` and ``workflow_instances`` statements, and the run-row helpers.

The statements of these hot paths are built once at import time with bound parameters, so
SQLAlchemy compiles each of them once per process instead of rebuilding and re-hashing them on
every call. ``UPDATE`` statements take their ``SET`` columns from the parameter keys.

Lock order: every transaction that writes a run's rows locks the run row *first* and its task,
timer or attempt rows after it (closing a run, timing it out and every completion all do), so
two of them can never wait for each other in opposite orders. A caller that knows a task id but
not yet its run locks the run through :func:`run_of` (one statement; the subquery locks
nothing), then the task. The one exception is a claim's fast pass, which skip-locks candidate
tasks first but then only *tries* their runs, never waiting while it holds task rows (see
``engine.queues``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import RunRow
from ...store.statuses import OPEN_RUN_STATUSES, TERMINAL_RUN_STATUSES
from ..row_split import PrefixSplit
from ..transaction import Tx

_wr, _wi = t.workflow_runs, t.workflow_instances

# A fence's one read (a task or attempt row and its run, ``workflow_tasks.leases.fence``,
# ``activities.outcomes.fence_execution``): the run's columns prefixed (see :func:`split_run`).
RUN_PREFIX = "r__"
RUN_COLUMNS = tuple(column.label(RUN_PREFIX + column.name) for column in _wr.c)
_SPLIT_RUN = PrefixSplit(RUN_PREFIX)


SELECT_RUN = sa.select(_wr).where(_wr.c.run_id == sa.bindparam("b_run_id"))
UPDATE_RUN = sa.update(_wr).where(_wr.c.run_id == sa.bindparam("b_run_id"))
INSERT_RUN = sa.insert(_wr)
RUN_OF_WORKFLOW = sa.select(_wr).where(
    _wr.c.run_id == sa.bindparam("b_run_id"), _wr.c.workflow_id == sa.bindparam("b_workflow_id")
)
RUNS_OF_WORKFLOW = (
    sa.select(_wr).where(_wr.c.workflow_id == sa.bindparam("b_workflow_id")).order_by(_wr.c.run_number)
)
# Run timeouts: due runs by ``timeout_at`` (``NULL`` once closed), and the fenced claim of one.
DUE_TIMEOUTS = (
    sa.select(_wr.c.run_id)
    .where(_wr.c.timeout_at <= sa.bindparam("b_now"))
    .order_by(_wr.c.timeout_at)
    .limit(sa.bindparam("b_limit"))
)
CLAIM_TIMEOUT = (
    sa.update(_wr)
    .where(
        _wr.c.run_id == sa.bindparam("b_run_id"),
        _wr.c.status.in_(sorted(OPEN_RUN_STATUSES)),
        _wr.c.timeout_at <= sa.bindparam("b_now"),
    )
    .values(timeout_at=None)
)
# ``IS NOT NULL``: what lets the partial index on ``timeout_at`` answer it (not a table scan).
EARLIEST_TIMEOUT = sa.select(sa.func.min(_wr.c.timeout_at)).where(_wr.c.timeout_at.is_not(None))

INSTANCE = sa.select(_wi).where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
INSTANCE_IN_NAMESPACE = sa.select(_wi).where(
    _wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.namespace == sa.bindparam("b_namespace")
)
INSERT_INSTANCE = sa.insert(_wi)
UPDATE_INSTANCE = sa.update(_wi).where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
# The instance's current run, locked before the instance itself (the lock order: run first, as
# continue-as-new holds its run while it moves the instance on).
CURRENT_RUN_LOCKING = sa.select(_wr).where(
    _wr.c.run_id
    == sa.select(_wi.c.current_run_id)
    .where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
    .scalar_subquery()
)
# A start's first statement: the instance of a new workflow id, written only if there is none yet
# (``rowcount`` 0 when the id has one: then :data:`CURRENT_RUN_AND_INSTANCE` reads it).
_INSTANCE_COLUMNS = ("workflow_id", "namespace", "workflow_type", "current_run_id", "run_count", "created_at")
_existing = _wi.alias("existing")
INSERT_INSTANCE_IF_ABSENT = sa.insert(_wi).from_select(
    list(_INSTANCE_COLUMNS),
    sa.select(*(sa.bindparam(name, type_=_wi.c[name].type) for name in _INSTANCE_COLUMNS)).where(
        ~sa.exists().where(_existing.c.workflow_id == sa.bindparam("workflow_id"))
    ),
)
_ns = t.namespaces


def insert_instance_in_namespace(*returning: sa.ColumnElement[Any]) -> sa.Insert:
    """:data:`INSERT_INSTANCE_IF_ABSENT`, written only while namespace ``b_namespace`` exists,
    taking it ``FOR KEY SHARE`` (as ``engine.namespaces.rows.require`` does) in the same statement,
    before the row is written; ``RETURNING`` the ``returning`` columns (scalar subqueries another
    step of the start needs). No row: the id has an instance, or there is no such namespace.
    """
    values = sa.select(*(sa.bindparam(name, type_=_wi.c[name].type) for name in _INSTANCE_COLUMNS))
    source = (
        values.select_from(_ns)
        .where(
            _ns.c.name == sa.bindparam("b_namespace"),
            ~sa.exists().where(_existing.c.workflow_id == sa.bindparam("workflow_id")),
        )
        .with_for_update(read=True, key_share=True, of=_ns)
    )
    return sa.insert(_wi).from_select(list(_INSTANCE_COLUMNS), source).returning(*returning)


# The instance and its current run (``RUN_COLUMNS``) in one read, both locked where the database
# has row locks, the run first (``FOR UPDATE OF`` locks in the order it names), as
# :data:`CURRENT_RUN_LOCKING` then the instance do. No row: no instance, or it moved to another
# run while this read waited for the run's lock (the row no longer joins), or its run is gone.
CURRENT_RUN_AND_INSTANCE = (
    sa.select(_wi, *RUN_COLUMNS)
    .select_from(_wr.join(_wi, _wr.c.run_id == _wi.c.current_run_id))
    .where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
    .with_for_update(of=[_wr, _wi])
)
# Describe: the instance's current run and the two instance fields the answer needs, in one query.
CURRENT_RUN = (
    sa.select(_wr, _wi.c.current_run_id.label("i_current_run_id"), _wi.c.run_count.label("i_run_count"))
    .select_from(_wi.join(_wr, _wr.c.run_id == _wi.c.current_run_id))
    .where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.namespace == sa.bindparam("b_namespace"))
)


def split_run(row: dict[str, Any]) -> tuple[dict[str, Any], RunRow]:
    """A row selecting :data:`RUN_COLUMNS` beside other columns, as ``(the others, the run)``."""
    rest, run = _SPLIT_RUN(row)
    return rest, cast(RunRow, run)


def run_of(table: sa.Table, key: str, *, in_namespace: bool = False) -> sa.Select[Any]:
    """The run owning the ``table`` row whose ``key`` is ``b_<key>`` (optionally in ``b_namespace``).

    Lock it (``store.lock``) before the row itself: the engine's lock order.
    """
    owner = sa.select(table.c.run_id).where(table.c[key] == sa.bindparam(f"b_{key}"))
    if in_namespace:
        owner = owner.where(table.c.namespace == sa.bindparam("b_namespace"))
    return sa.select(_wr).where(_wr.c.run_id == owner.scalar_subquery())


async def load_run(tx: Tx, run_id: str, *, lock: bool = True) -> RunRow | None:
    await write_pending(tx, run_id)
    row = await tx.one(tx.store.lock(SELECT_RUN) if lock else SELECT_RUN, {"b_run_id": run_id})
    return cast(RunRow | None, row)


async def try_lock_run(tx: Tx, run_id: str) -> RunRow | None:
    """The run, locked, or ``None`` if another transaction holds it (or it does not exist)."""
    await write_pending(tx, run_id)
    return cast(RunRow | None, await tx.one(tx.store.claim(SELECT_RUN), {"b_run_id": run_id}))


async def lock_run_of(tx: Tx, stmt: sa.Select[Any], params: dict[str, Any]) -> RunRow | None:
    """Lock the run selected by a :func:`run_of` statement."""
    return cast(RunRow | None, await tx.one(tx.store.lock(stmt), params))


async def update_run(tx: Tx, run: RunRow, *, defer: bool = False, **values: Any) -> None:
    """Write ``values`` to the run row (one ``UPDATE``) and mirror them into ``run``.

    ``defer=True`` only mirrors them and leaves the write to the run's next update in this
    transaction (one ``UPDATE`` for both), or to the end of the transaction's body (see
    :func:`write_pending`): for a caller that knows a further write of the run may follow and
    that nothing reads the run's row meanwhile other than through :func:`load_run` /
    :func:`try_lock_run`, which write what is pending first.
    """
    if not values:
        return
    run_id = run["run_id"]
    cast(dict[str, Any], run).update(values)
    pending = tx.pending_runs.pop(run_id, None)
    if pending is not None:
        values = {**pending, **values}
    if defer:
        tx.pending_runs[run_id] = values
        return
    await tx.conn.execute(UPDATE_RUN, {"b_run_id": run_id, **values})


async def write_pending(tx: Tx, run_id: str | None = None) -> None:
    """Write the deferred run values of ``run_id`` (every run's when ``None``) to their rows."""
    for pending_id in [run_id] if run_id is not None else list(tx.pending_runs):
        values = tx.pending_runs.pop(pending_id, None)
        if values:
            await tx.conn.execute(UPDATE_RUN, {"b_run_id": pending_id, **values})


def progress(run: RunRow) -> dict[str, Any]:
    """The projection fields ``history.rows.append`` advances, for a caller that writes the run."""
    return {
        "last_history_sequence": run["last_history_sequence"],
        "last_progress_at": run["last_progress_at"],
    }


def is_terminal_run(run: Mapping[str, Any]) -> bool:
    return run["status"] in TERMINAL_RUN_STATUSES


def is_paused(run: Mapping[str, Any]) -> bool:
    """Whether the run is paused: its new and ready tasks wait as ``paused`` until it resumes."""
    return run.get("paused_at") is not None
