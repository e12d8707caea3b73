"""Pausing and resuming a run (an extension of the contract; see docs/protocol.md).

A paused run (``paused_at`` set) gets no new workflow tasks and no activity dispatches: its ready
tasks of both kinds are moved to ``paused``, tasks created while it is paused (signals, updates,
timer firings, step results, retries) are created ``paused`` (``ensure_workflow_task``, activity
scheduling and retries), and claims hold back any that slip through. Leased work finishes and is
recorded as usual. Resuming moves the paused tasks back to ``ready`` and wakes the pollers of
their queues, in every process (the transaction's wake-ups are broadcast after commit).

History gets ``WorkflowPaused`` / ``WorkflowResumed``; replayers (ours and SDK 0.4.84) ignore
event types they do not know, so these change no replay.
"""

from __future__ import annotations

from durable_workflow.protocol.history import EventType

from ..store.rows import RunRow

# The two task tables spell ``ready`` and ``paused`` alike, so one move serves both.
from ..store.statuses import WorkflowTaskStatus
from .activities import rows as activity_rows
from .core import EngineCore
from .history.rows import append
from .runs.rows import is_paused, update_run
from .targets import CommandResultBody, Target, command_result, lock_target
from .transaction import Tx
from .util import new_id
from .workflow_tasks import rows as workflow_task_rows

PAUSED, ALREADY_PAUSED, RESUMED, NOT_PAUSED = "paused", "already_paused", "resumed", "not_paused"


async def _move(tx: Tx, target: Target, source: str, destination: str) -> None:
    """Move the run's tasks of both kinds from ``source`` to ``destination`` status."""
    run = target.run
    params = {"b_run_id": run["run_id"], "b_from": source, "b_to": destination, "b_now": tx.now}
    await tx.conn.execute(workflow_task_rows.MOVE_OF_RUN, params)
    queues = [row["task_queue"] for row in await tx.all(activity_rows.QUEUES_OF_RUN_IN, params)]
    await tx.conn.execute(activity_rows.MOVE_TASKS_OF_RUN, params)
    if destination == WorkflowTaskStatus.READY:
        tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
        tx.wakes.update(("activity", run["namespace"], queue) for queue in queues)


async def _record(
    tx: Tx, target: Target, event_type: str, outcome: str, **payload: object
) -> CommandResultBody:
    run = target.run
    command_id = new_id()
    (event,) = await append(
        tx,
        run,
        [
            (
                event_type,
                {
                    "workflow_command_id": command_id,
                    "workflow_instance_id": run["workflow_id"],
                    "workflow_run_id": run["run_id"],
                    **payload,
                },
            )
        ],
    )
    reason = payload.get("reason")
    return command_result(
        target,
        outcome=outcome,
        command_id=command_id,
        command_sequence=int(event["sequence"]),
        reason=reason if isinstance(reason, str) else None,
        paused=is_paused(run),
    )


async def pause(tx: Tx, target: Target, *, reason: str | None, request_id: str | None) -> CommandResultBody:
    """Pause the open run of ``target`` (``already_paused`` when it is, and nothing is written)."""
    run = target.run
    if is_paused(run):
        return command_result(
            target,
            outcome=ALREADY_PAUSED,
            command_id=new_id(),
            command_sequence=None,
            reason=run["pause_reason"],
            paused=True,
        )
    await update_run(tx, run, paused_at=tx.now, pause_reason=reason)
    await _move(tx, target, WorkflowTaskStatus.READY, WorkflowTaskStatus.PAUSED)
    return await _record(tx, target, EventType.WORKFLOW_PAUSED, PAUSED, reason=reason, request_id=request_id)


async def resume(tx: Tx, target: Target, *, request_id: str | None) -> CommandResultBody:
    """Resume the paused run of ``target`` (``not_paused`` when it is not, and nothing is written)."""
    run = target.run
    if not is_paused(run):
        return command_result(
            target, outcome=NOT_PAUSED, command_id=new_id(), command_sequence=None, paused=False
        )
    await update_run(tx, run, paused_at=None, pause_reason=None)
    await _move(tx, target, WorkflowTaskStatus.PAUSED, WorkflowTaskStatus.READY)
    return await _record(tx, target, EventType.WORKFLOW_RESUMED, RESUMED, request_id=request_id)


async def carry_pause(tx: Tx, run: RunRow, new_run: RunRow) -> None:
    """A paused run continued as new (its leased task finished): the new run starts paused."""
    if not is_paused(run):
        return
    await update_run(tx, new_run, paused_at=run["paused_at"], pause_reason=run["pause_reason"])
    params = {
        "b_run_id": new_run["run_id"],
        "b_from": WorkflowTaskStatus.READY,
        "b_to": WorkflowTaskStatus.PAUSED,
        "b_now": tx.now,
    }
    await tx.conn.execute(workflow_task_rows.MOVE_OF_RUN, params)
    payload = {
        "workflow_command_id": new_id(),
        "workflow_instance_id": new_run["workflow_id"],
        "workflow_run_id": new_run["run_id"],
        "reason": run["pause_reason"],
        "carried_from_run_id": run["run_id"],
    }
    await append(tx, new_run, [(EventType.WORKFLOW_PAUSED, payload)])


class PauseCommands(EngineCore):
    """``pause_workflow`` and ``resume_workflow``: one transaction each, on the current run."""

    async def pause_workflow(
        self, namespace: str, workflow_id: str, *, reason: str | None = None, request_id: str | None = None
    ) -> CommandResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id)
                return await pause(tx, target, reason=reason, request_id=request_id)
        raise AssertionError("unreachable: every attempt returns or raises")

    async def resume_workflow(
        self, namespace: str, workflow_id: str, *, request_id: str | None = None
    ) -> CommandResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id)
                return await resume(tx, target, request_id=request_id)
        raise AssertionError("unreachable: every attempt returns or raises")
