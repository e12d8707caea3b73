"""A run's blocking steps (activity executions, durable timers, child workflows) and the wake rule.

Only durable timers (``timers.timer_kind IS NULL``) are steps: timers of other kinds (condition
timeouts, child retries and child-closed notices) belong to another row and never block a batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import RunRow
from ...store.statuses import (
    ActivityExecutionStatus,
    ChildLinkStatus,
    ConditionWaitStatus,
    SignalStatus,
    TimerStatus,
    UpdateStatus,
    WorkflowTaskStatus,
)
from ..transaction import Tx
from ..workflow_tasks.rows import ensure_workflow_task
from .rows import progress, update_run

STEP_ACTIVITY = "activity"
STEP_TIMER = "timer"
STEP_CHILD = "child"
_ae, _tm, _cl, _cw, _sg = t.activity_executions, t.timers, t.child_links, t.condition_waits, t.signals
_wt, _up = t.workflow_tasks, t.updates
_OPEN_TASK_STATUSES = (WorkflowTaskStatus.READY, WorkflowTaskStatus.LEASED, WorkflowTaskStatus.PAUSED)
_RESOLVED_EXECUTION = frozenset(
    {ActivityExecutionStatus.COMPLETED, ActivityExecutionStatus.FAILED, ActivityExecutionStatus.CANCELLED}
)
# Every blocking step of a run (activity executions, durable timers, children) in one round trip.
_STEPS = sa.union_all(
    sa.select(
        sa.literal_column(f"'{STEP_ACTIVITY}'").label("kind"),
        _ae.c.activity_execution_id.label("step_id"),
        _ae.c.sequence,
        _ae.c.batch_id,
        _ae.c.status,
        _ae.c.activity_type,
        sa.cast(sa.null(), sa.Integer).label("delay_seconds"),
        sa.cast(sa.null(), sa.String).label("workflow_type"),
    ).where(_ae.c.run_id == sa.bindparam("b_run_id")),
    sa.select(
        sa.literal_column(f"'{STEP_TIMER}'"),
        _tm.c.timer_id,
        _tm.c.sequence,
        _tm.c.batch_id,
        _tm.c.status,
        sa.cast(sa.null(), sa.String),
        _tm.c.delay_seconds,
        sa.cast(sa.null(), sa.String),
        # Timers with a kind (a condition wait's timeout, a child retry) are not workflow steps.
    ).where(_tm.c.run_id == sa.bindparam("b_run_id"), _tm.c.timer_kind.is_(None)),
    sa.select(
        sa.literal_column(f"'{STEP_CHILD}'"),
        _cl.c.link_id,
        _cl.c.sequence,
        _cl.c.batch_id,
        _cl.c.status,
        sa.cast(sa.null(), sa.String),
        sa.cast(sa.null(), sa.Integer),
        _cl.c.child_workflow_type,
    ).where(_cl.c.parent_run_id == sa.bindparam("b_run_id")),
)


# A workflow-task completion's first write and what it needs to know of the run, in one
# statement: the completing task (``b_task_id``, locked by the fence) closed, and in its
# ``RETURNING`` whether the run has work open beside it: an unresolved step or any child link
# (then its steps are read, see :func:`close_task_reading_work`), an open condition wait, the
# earliest received (not yet applied) signal, another ready or open workflow task, an accepted
# update. Read under the run lock, taken by the fence in an earlier statement (so on PostgreSQL
# this statement's snapshot sees every writer that held it before): steps are created, waits
# opened, signals received, tasks queued and updates accepted only by writers holding it.
_b_run: sa.BindParameter[str] = sa.bindparam("b_run_id")
_other = _wt.alias("other_task")
_OTHER_TASK = (_other.c.run_id == _b_run, _other.c.task_id != sa.bindparam("b_task_id"))
_CLOSE_TASK_READING_WORK = (
    sa.update(_wt)
    .where(_wt.c.task_id == sa.bindparam("b_task_id"))
    .values(status=WorkflowTaskStatus.COMPLETED, lease_expires_at=None, updated_at=sa.bindparam("b_now"))
    .returning(
        sa.or_(
            # What ``_resolved`` calls unresolved, per kind; any child link (``runs.lifecycle.
            # close_run`` asks whether the run ever had a child step).
            sa.exists().where(_ae.c.run_id == _b_run, _ae.c.status.notin_(sorted(_RESOLVED_EXECUTION))),
            sa.exists().where(
                _tm.c.run_id == _b_run, _tm.c.timer_kind.is_(None), _tm.c.status == TimerStatus.PENDING
            ),
            sa.exists().where(_cl.c.parent_run_id == _b_run),
        ).label("needs_steps"),
        sa.exists()
        .where(_cw.c.run_id == _b_run, _cw.c.status == ConditionWaitStatus.OPEN)
        .label("open_waits"),
        sa.select(sa.func.min(_sg.c.history_sequence))
        .where(_sg.c.run_id == _b_run, _sg.c.status == SignalStatus.RECEIVED)
        .scalar_subquery()
        .label("earliest_signal"),
        sa.exists().where(*_OTHER_TASK, _other.c.status == WorkflowTaskStatus.READY).label("other_ready"),
        sa.exists().where(*_OTHER_TASK, _other.c.status.in_(_OPEN_TASK_STATUSES)).label("other_open"),
        sa.exists().where(_up.c.run_id == _b_run, _up.c.status == UpdateStatus.ACCEPTED).label("accepted"),
    )
)


# The wake rule's two facts of a run's steps, as columns of the statement resolving one of them
# (an activity completion's ``UPDATE`` of its execution, ``RETURNING`` them): the kind of the
# first unresolved step by sequence and whether ``b_batch_id`` has one, leaving out the
# execution ``b_resolving_id`` being resolved (so what the statement itself changed, which the
# two databases show differently in ``RETURNING``, does not matter). Read under the run lock,
# like :func:`run_steps`: steps change only under it.
# (An alias: the statement's own table is ``activity_executions``, never correlated to it.)
_other_ae = _ae.alias("other_executions")
_UNRESOLVED = sa.union_all(
    sa.select(
        sa.literal_column(f"'{STEP_ACTIVITY}'").label("kind"), _other_ae.c.sequence, _other_ae.c.batch_id
    ).where(
        _other_ae.c.run_id == sa.bindparam("b_run_id"),
        _other_ae.c.status.not_in(_RESOLVED_EXECUTION),
        _other_ae.c.activity_execution_id != sa.bindparam("b_resolving_id"),
    ),
    sa.select(sa.literal_column(f"'{STEP_TIMER}'"), _tm.c.sequence, _tm.c.batch_id).where(
        _tm.c.run_id == sa.bindparam("b_run_id"),
        _tm.c.timer_kind.is_(None),
        _tm.c.status == TimerStatus.PENDING,
    ),
    sa.select(sa.literal_column(f"'{STEP_CHILD}'"), _cl.c.sequence, _cl.c.batch_id).where(
        _cl.c.parent_run_id == sa.bindparam("b_run_id"), _cl.c.status == ChildLinkStatus.OPEN
    ),
).subquery("unresolved")
_FIRST_UNRESOLVED = sa.select(_UNRESOLVED.c.kind).order_by(_UNRESOLVED.c.sequence).limit(1)
OTHER_STEPS_COLUMNS = (
    _FIRST_UNRESOLVED.scalar_subquery().label("steps_wait_kind"),
    sa.exists().where(_UNRESOLVED.c.batch_id == sa.bindparam("b_batch_id")).label("steps_batch_open"),
)


@dataclass(frozen=True)
class OtherSteps:
    """What the wake rule needs of a run's steps besides the one being resolved (read with
    :data:`OTHER_STEPS_COLUMNS`): the first unresolved one's kind, and whether its batch has one."""

    wait_kind: str | None
    batch_open: bool

    @classmethod
    def of(cls, row: dict[str, Any]) -> OtherSteps:
        kind = row["steps_wait_kind"]
        return cls(None if kind is None else str(kind), bool(row["steps_batch_open"]))


@dataclass(frozen=True)
class Step:
    """A blocking step of a run: an activity execution, a durable timer or a child workflow."""

    kind: str
    step_id: str
    sequence: int
    batch_id: str
    resolved: bool
    activity_type: str | None = None
    delay_seconds: int | None = None
    workflow_type: str | None = None


def _resolved(kind: str, status: str) -> bool:
    if kind == STEP_ACTIVITY:
        return status in _RESOLVED_EXECUTION
    if kind == STEP_CHILD:
        return status != ChildLinkStatus.OPEN
    return status != TimerStatus.PENDING


def _step(r: dict[str, Any]) -> Step:
    return Step(
        r["kind"],
        r["step_id"],
        r["sequence"],
        r["batch_id"],
        _resolved(r["kind"], r["status"]),
        activity_type=r["activity_type"],
        delay_seconds=r["delay_seconds"],
        workflow_type=r["workflow_type"],
    )


async def run_steps(tx: Tx, run_id: str) -> list[Step]:
    """All blocking steps of a run, ordered by workflow sequence."""
    steps = [_step(r) for r in await tx.all(_STEPS, {"b_run_id": run_id})]
    steps.sort(key=lambda s: s.sequence)
    return steps


@dataclass(frozen=True)
class RunWork:
    """What a completing workflow task's run has open beside it (see :func:`close_task_reading_work`)."""

    # The run's steps, or none when none of them can matter to the completion: the run has no
    # unresolved step and no child link, and no step resolved after the task was leased.
    steps: list[Step]
    has_open_waits: bool
    # The history sequence of the run's earliest received (not yet applied) signal, if any.
    earliest_signal: int | None
    # Whether the run has another ready workflow task; another ready, leased or paused one.
    other_ready: bool
    other_open: bool
    has_accepted_updates: bool


async def close_task_reading_work(tx: Tx, task_id: str, run: RunRow, *, late: bool) -> RunWork:
    """Mark the leased ``task_id`` of ``run`` completed, and read what the run has open beside it.

    The task's closing write and the read in one statement; the run's steps (:func:`run_steps`)
    only when the run has an unresolved step or a child link, or ``late`` (a step may have been
    resolved after the task was leased, so the resolved steps matter too). Otherwise every step
    the run has is resolved and no child's: the completion's wait kind, re-sent steps and close
    depend only on the steps it creates. Call it under the run lock (the fence's).
    """
    run_id = run["run_id"]
    params = {"b_task_id": task_id, "b_run_id": run_id, "b_now": tx.now}
    found = await tx.one(_CLOSE_TASK_READING_WORK, params)
    assert found is not None, "the fence locked the task"
    steps = await run_steps(tx, run_id) if found["needs_steps"] or late else []
    earliest = found["earliest_signal"]
    return RunWork(
        steps,
        bool(found["open_waits"]),
        None if earliest is None else int(earliest),
        bool(found["other_ready"]),
        bool(found["other_open"]),
        bool(found["accepted"]),
    )


def wait_kind(steps: list[Step]) -> str | None:
    pending = [s for s in steps if not s.resolved]
    return pending[0].kind if pending else None


async def after_step_resolved(
    tx: Tx,
    run: RunRow,
    batch_id: str,
    *,
    defer: bool = False,
    queue: Callable[[Tx, RunRow], Awaitable[str | None]] | None = None,
    others: OtherSteps | None = None,
) -> str | None:
    """Wake rule: resume the run once every blocking step of ``batch_id`` is resolved.

    Also writes the run's :func:`progress`, so callers may ``append(..., write_run=False)`` first
    (``defer``: written with the run's next update, see ``update_run``). ``queue`` queues the
    run's next task instead of ``ensure_workflow_task`` (an eager hand-out's, leased as it goes in).
    ``others``: the steps' facts, read by this transaction with the statement that resolved the
    step (under the run lock, nothing changed them since), so they are not read again.
    """
    if others is None:
        steps = await run_steps(tx, run["run_id"])
        first_unresolved = wait_kind(steps)
        batch_open = any(s.batch_id == batch_id and not s.resolved for s in steps)
    else:
        first_unresolved, batch_open = others.wait_kind, others.batch_open
    await update_run(tx, run, defer=defer, wait_kind=first_unresolved, **progress(run))
    if batch_open:
        return None
    if queue is not None:
        return await queue(tx, run)
    return await ensure_workflow_task(tx, run)
