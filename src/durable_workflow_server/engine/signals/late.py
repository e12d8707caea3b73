"""Signals that arrive while a run's workflow task is leased, when that task closes the run.

The worker replayed a history without them, so the run must not close over them:

* ``complete_workflow`` / ``fail_workflow``: the completion is refused (``unhandled_signals``),
  nothing of it is applied, the leased task retires and the ready task the signal queued
  carries the signals to the next replay (our worker drops the refused completion silently;
  SDK 0.4.84 logs it);
* ``continue_as_new``: they move to the new run (a ``SignalReceived`` there, before its first
  task, and their rows), so signals sent during the hand-over reach the new run.
"""

from __future__ import annotations

from typing import cast

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.history import EventType

from ...store.rows import RunRow, SignalRow, WorkflowTaskRow
from ...store.statuses import WorkflowTaskStatus
from ..history.rows import append
from ..shapes import WorkflowTaskRefusedResponse
from ..transaction import Tx
from ..workflow_tasks import rows as workflow_task_rows
from ..workflow_tasks.rows import ensure_workflow_task
from . import rows


async def unseen(tx: Tx, run: RunRow, task: WorkflowTaskRow) -> list[SignalRow]:
    """The run's signals recorded after ``task`` was leased (its worker did not see them)."""
    handed = task.get("history_sequence")
    if handed is None or int(handed) >= int(run["last_history_sequence"]):
        return []
    params = {"b_run_id": run["run_id"], "b_after": int(handed)}
    return cast(list[SignalRow], await tx.all(rows.RECEIVED_AFTER, params))


async def refuse_close(
    tx: Tx, run: RunRow, task: WorkflowTaskRow, signals: list[SignalRow]
) -> WorkflowTaskRefusedResponse:
    """Refuse a completion that would close the run over ``signals``; queue the next task."""
    await tx.conn.execute(
        workflow_task_rows.UPDATE,
        {
            "b_task_id": task["task_id"],
            "status": WorkflowTaskStatus.COMPLETED,
            "lease_expires_at": None,
            "updated_at": tx.now,
            "last_error": "refused: unhandled signals",
        },
    )
    await ensure_workflow_task(tx, run)  # normally there already (the signal queued it)
    tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
    names = sorted({s["signal_name"] for s in signals})
    return {
        "task_id": task["task_id"],
        "workflow_task_attempt": task["attempt_count"],
        "outcome": "rejected",
        "recorded": False,
        "run_id": run["run_id"],
        "run_status": run["status"],
        "created_task_ids": [],
        "reason": reasons.UNHANDLED_SIGNALS,
        "message": (
            f"The run received {len(signals)} signal(s) {names} while this task was leased; "
            "the completion was not applied and the next workflow task delivers them."
        ),
    }


async def carry_to(tx: Tx, signals: list[SignalRow], new_run: RunRow) -> None:
    """Move ``signals`` to ``new_run``: a ``SignalReceived`` each there, and their rows."""
    events = [
        (
            EventType.SIGNAL_RECEIVED,
            {
                "workflow_command_id": s["command_id"],
                "signal_id": s["signal_id"],
                "workflow_instance_id": new_run["workflow_id"],
                "workflow_run_id": new_run["run_id"],
                "signal_name": s["signal_name"],
                "signal_wait_id": None,
                "arguments": s["arguments_blob"],
                "payload_codec": s["payload_codec"],
                "request_id": s["request_id"],
                "carried_from_run_id": s["run_id"],
            },
        )
        for s in signals
    ]
    written = await append(tx, new_run, events)
    for signal, event in zip(signals, written, strict=True):
        await tx.conn.execute(
            rows.MOVE,
            {
                "b_signal_id": signal["signal_id"],
                "run_id": new_run["run_id"],
                "history_sequence": int(event["sequence"]),
            },
        )
