"""Sticky workflow tasks: a run's next workflow task goes to the worker that keeps its replay.

An additive extension (docs/protocol.md, "Sticky workflow tasks"), advertised as
``sticky_workflow_tasks`` and used only by workers that ask for it:

* a workflow-task completion that carries ``"sticky": true`` (the worker keeps the run's
  replay) records that worker and the history sequence its replay has seen on the run
  (``workflow_runs.sticky_worker_id`` / ``sticky_history_sequence``, written with the run's own
  update of that completion: :func:`run_values`); a completion without it (SDK 0.4.84), a
  failed task, or a lease taken by another worker clears them;
* a workflow task queued for a sticky run carries the run's sticky worker
  (``workflow_tasks.sticky_worker_id``), and only that worker may claim it while the task is
  younger than the sticky schedule-to-start window (``DW_STICKY_SCHEDULE_TO_START_SECONDS``,
  default 5 s) since the later of the moment it became due and the moment it was last made
  sticky; once both are older any worker of the queue claims it, and once the worker went away
  (stop notice, deregistration, released by liveness) or failed a task of the run, or its lease
  on the task expired, any worker claims the run's queued and paused tasks at once;
* the sticky worker's lease hands it only the events after the sequence its replay has seen
  (``history_after_sequence``), plus a token that reads the history from its start
  (``full_history_next_page_token``) for a worker that lost the run's replay meanwhile.

The rule is part of the common claim rule (:func:`.claims.claim_workflow_task`: its candidate
query and the per-candidate check), so every path that hands out workflow tasks applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import RunRow, WorkflowTaskRow
from ...store.statuses import WorkflowTaskStatus as S
from ..runs.rows import update_run
from ..transaction import Tx
from ..util import encode_token, seconds

# The default window (DW_STICKY_SCHEDULE_TO_START_SECONDS): like Temporal's sticky
# schedule-to-start timeout, short enough that a worker that vanished without a stop notice
# delays its runs by seconds, long enough for a busy sticky worker to poll again.
DEFAULT_STICKY_SCHEDULE_TO_START_SECONDS = 5.0

_wt, _wr = t.workflow_tasks, t.workflow_runs

# A claim candidate is free for the claimer (``b_worker_id``) unless another worker holds it
# sticky and the window (``b_sticky_cutoff`` = now - window) has not passed since the later of
# the moment it became due and the moment it was last made sticky. The later, not the earlier:
# a task queued (due) during a lease longer than the window and made sticky by that lease's
# completion is still held for the worker that has the run's replay. What re-dates a task
# without meaning to hold it (a lease handed back or expired) clears its sticky worker instead
# (``rows.REQUEUE``).
FREE_FOR_CLAIMER = sa.or_(
    _wt.c.sticky_worker_id.is_(None),
    _wt.c.sticky_worker_id == sa.bindparam("b_worker_id"),
    sa.and_(
        _wt.c.available_at <= sa.bindparam("b_sticky_cutoff"),
        _wt.c.updated_at <= sa.bindparam("b_sticky_cutoff"),
    ),
)
_MAKE_QUEUED_STICKY = (
    sa.update(_wt)
    .where(
        _wt.c.run_id == sa.bindparam("b_run_id"),
        _wt.c.status.in_((S.READY, S.PAUSED)),
    )
    .values(sticky_worker_id=sa.bindparam("b_sticky"), updated_at=sa.bindparam("b_now"))
)
_RUNS_OF_WORKER = sa.select(_wr.c.run_id, _wr.c.task_queue).where(
    _wr.c.sticky_worker_id == sa.bindparam("b_worker_id"), _wr.c.namespace == sa.bindparam("b_namespace")
)
# Registered workers silent since ``b_cutoff`` that some run still keeps as its sticky worker:
# liveness declares them dead whether or not they hold a lease (see :func:`silent_keepers`).
_wk = t.workers
_SILENT_KEEPERS = (
    sa.select(_wk.c.namespace, _wk.c.worker_id)
    .where(
        _wk.c.last_heartbeat_at <= sa.bindparam("b_cutoff"),
        sa.exists().where(_wr.c.sticky_worker_id == _wk.c.worker_id, _wr.c.namespace == _wk.c.namespace),
    )
    .order_by(_wk.c.namespace, _wk.c.worker_id)
    .limit(sa.bindparam("b_limit"))
)
# Paused tasks too: resuming a run re-dates its tasks (``updated_at``), which would hold them
# for a worker that is gone for one more window.
_END_FOR_WORKER_TASKS = (
    sa.update(_wt)
    .where(
        _wt.c.run_id.in_(sa.bindparam("b_run_ids", expanding=True)),
        _wt.c.status.in_((S.READY, S.PAUSED)),
        _wt.c.sticky_worker_id == sa.bindparam("b_worker_id"),
    )
    .values(sticky_worker_id=None)
)
# A failed task: the run's queued tasks (one queued during the failed lease) are anyone's.
_FREE_QUEUED_OF_RUN = (
    sa.update(_wt)
    .where(
        _wt.c.run_id == sa.bindparam("b_run_id"),
        _wt.c.status.in_((S.READY, S.PAUSED)),
        _wt.c.sticky_worker_id.is_not(None),
    )
    .values(sticky_worker_id=None)
)
_END_FOR_WORKER_RUNS = (
    sa.update(_wr)
    .where(_wr.c.run_id.in_(sa.bindparam("b_run_ids", expanding=True)))
    .values(sticky_worker_id=None, sticky_history_sequence=None)
)


def cutoff(now: datetime, window: float) -> datetime:
    """Tasks due (or made sticky) at or before this moment are free for any worker."""
    return now - seconds(max(window, 0.0))


def claim_params(worker_id: str, now: datetime, window: float) -> dict[str, Any]:
    """The bind values :data:`FREE_FOR_CLAIMER` needs."""
    return {"b_worker_id": worker_id, "b_sticky_cutoff": cutoff(now, window)}


def held_for_another(task: Mapping[str, Any], worker_id: str, now: datetime, window: float) -> bool:
    """The per-candidate form of :data:`FREE_FOR_CLAIMER`, negated (for re-locked candidates)."""
    owner = task.get("sticky_worker_id")
    if owner is None or owner == worker_id:
        return False
    limit = cutoff(now, window)
    return bool(task["available_at"] > limit or task["updated_at"] > limit)


def after_claim(run: RunRow, worker_id: str) -> dict[str, Any]:
    """The run columns to write when ``worker_id`` leased its task (written with the claim's own).

    Another worker took it, with the full history: the run is no longer sticky.
    """
    if run["sticky_worker_id"] is not None and run["sticky_worker_id"] != worker_id:
        return {"sticky_worker_id": None, "sticky_history_sequence": None}
    return {}


def partial_after(task: WorkflowTaskRow, run: RunRow) -> int | None:
    """The history sequence the claimer's kept replay has seen, if its lease gets only what follows."""
    seen = run["sticky_history_sequence"]
    if (
        seen is None
        or run["sticky_worker_id"] is None
        or task["lease_owner"] != run["sticky_worker_id"]
        or task.get("workflow_update_id")  # an update is answered from a replay of its own
        or seen > run["last_history_sequence"]
    ):
        return None
    return int(seen)


def partial_fields(after: int) -> PartialHistoryFields:
    """The task fields that mark its history as partial (see docs/protocol.md)."""
    return {"history_after_sequence": after, "full_history_next_page_token": encode_token(0)}


class PartialHistoryFields(TypedDict):
    history_after_sequence: int
    full_history_next_page_token: str


def run_values(run: RunRow, task: WorkflowTaskRow, sticky: bool) -> dict[str, Any]:
    """The run's sticky columns after ``task`` completes (written with the run, if it stays open).

    ``sticky``: the completion asked to keep the run. Empty when nothing changes (the common
    case of a worker that does not ask: no extra column written).
    """
    seen = task.get("history_sequence")
    # A lease taken before 0004 recorded what it saw leaves nothing to continue from.
    owner = task["lease_owner"] if sticky and seen is not None else None
    values = {"sticky_worker_id": owner, "sticky_history_sequence": seen if owner is not None else None}
    if (run["sticky_worker_id"], run["sticky_history_sequence"]) == tuple(values.values()):
        return {}
    return values


async def hold_queued(tx: Tx, run: RunRow) -> None:
    """Give the run's queued tasks the run's sticky worker (or none) after a completion.

    A task queued while the completed one was leased (a signal, a step's result) is the run's
    next: it waits for the run's sticky worker like one queued after the completion, and is
    free at once when the completion did not keep the run.
    """
    values = {"b_run_id": run["run_id"], "b_sticky": run["sticky_worker_id"], "b_now": tx.now}
    await tx.conn.execute(_MAKE_QUEUED_STICKY, values)


async def on_failure(tx: Tx, run: RunRow) -> None:
    """A failed task: its worker dropped the run's replay, so the next task needs full history.

    The run's tasks queued meanwhile (a signal during the lease) lose their sticky worker too:
    any worker claims them at once instead of after the window.
    """
    if run["sticky_worker_id"] is not None:
        await update_run(tx, run, sticky_worker_id=None, sticky_history_sequence=None)
        await tx.conn.execute(_FREE_QUEUED_OF_RUN, {"b_run_id": run["run_id"]})


async def silent_keepers(tx: Tx, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
    """``(namespace, worker_id)`` of registered workers last heard from at or before ``cutoff``
    that runs still keep as their sticky worker (at most ``limit``).

    Such a worker is gone even when it held no lease when it died: without this its runs' next
    tasks would each be held for it for the sticky window. Once :func:`end_for_worker` ran for it,
    no run keeps it, so a pass finds each dead worker once.
    """
    found = await tx.all(_SILENT_KEEPERS, {"b_cutoff": cutoff, "b_limit": limit})
    return [(str(row["namespace"]), str(row["worker_id"])) for row in found]


async def end_for_worker(tx: Tx, namespace: str, worker_id: str) -> None:
    """The worker went away: the queued and paused tasks of the runs it kept are anyone's at once.

    Called on its stop notice, its deregistration, and when liveness releases its leases.
    """
    kept = await tx.all(_RUNS_OF_WORKER, {"b_namespace": namespace, "b_worker_id": worker_id})
    if not kept:
        return
    run_ids = [row["run_id"] for row in kept]
    # The runs before their tasks: the engine's lock order (see runs.rows).
    await tx.conn.execute(_END_FOR_WORKER_RUNS, {"b_run_ids": run_ids})
    await tx.conn.execute(_END_FOR_WORKER_TASKS, {"b_run_ids": run_ids, "b_worker_id": worker_id})
    tx.wakes.update(("workflow", namespace, row["task_queue"]) for row in kept)
