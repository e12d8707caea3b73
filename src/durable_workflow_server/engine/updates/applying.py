"""Accepting an update, applying the worker's answer to it, and closing what a closed run leaves.

Delivery is one update at a time, in acceptance order: accepting queues a workflow task carrying
the update's id only when no earlier update of the run is still open; answering an update
queues the next one's task, and a plain task after it, so the workflow re-evaluates whatever
the update changed (SDK 0.4.84 and this SDK answer an update task with the update's command
alone and never advance the workflow in it). Everything runs in the caller's transaction, under
the run lock.
"""

from __future__ import annotations

from typing import Any, cast

from durable_workflow.protocol import commands as c
from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.history import EventType
from durable_workflow.protocol.wire import Envelope

from ...store.rows import RunRow, UpdateRow, WorkflowTaskRow
from ...store.statuses import UpdateStatus
from ..errors import DomainError
from ..history import events as h
from ..history.rows import append
from ..transaction import Tx
from ..util import new_id
from ..workflow_tasks.rows import ensure_workflow_task
from . import rows

Event = tuple[str, dict[str, Any]]
UPDATE_COMMANDS = frozenset({c.COMPLETE_UPDATE, c.FAIL_UPDATE})
RUN_CLOSED_MESSAGE = "The workflow run closed before the update completed."


def result_key(namespace: str, update_id: str) -> tuple[str, str, str]:
    """The wake key of a caller waiting for ``update_id`` to close."""
    return ("update_result", namespace, update_id)


async def accept(
    tx: Tx, run: RunRow, *, update_name: str, arguments: Envelope, request_id: str | None
) -> UpdateRow:
    """Record ``UpdateAccepted`` and the ``updates`` row; queue its task unless one is ahead."""
    update_id, command_id = new_id(), new_id()
    ahead = await tx.one(rows.ACCEPTED_OF_RUN, {"b_run_id": run["run_id"]})
    [event] = await append(
        tx,
        run,
        [
            (
                EventType.UPDATE_ACCEPTED,
                {
                    "workflow_command_id": command_id,
                    "update_id": update_id,
                    "workflow_instance_id": run["workflow_id"],
                    "workflow_run_id": run["run_id"],
                    "update_name": update_name,
                    "arguments": arguments["blob"],
                    "payload_codec": arguments["codec"],
                    "request_id": request_id,
                    "ordering_state": "queued" if ahead else "ready",
                    "queued_behind_update_id": ahead["update_id"] if ahead else None,
                },
            )
        ],
    )
    update: UpdateRow = {
        "update_id": update_id,
        "run_id": run["run_id"],
        "workflow_id": run["workflow_id"],
        "namespace": run["namespace"],
        "update_name": update_name,
        "payload_codec": arguments["codec"],
        "arguments_blob": arguments["blob"],
        "request_id": request_id,
        "command_id": command_id,
        "history_sequence": event["sequence"],
        "workflow_sequence": None,
        "status": UpdateStatus.ACCEPTED,
        "result_codec": None,
        "result_blob": None,
        "failure": None,
        "accepted_at": tx.now,
        "applied_at": None,
        "closed_at": None,
        "rejected_at": None,
    }
    await tx.conn.execute(rows.INSERT, update)
    if ahead is None:
        await ensure_workflow_task(tx, run, update_id=update_id)
    return update


def _invalid(message: str, **extra: Any) -> DomainError:
    return DomainError(reasons.INVALID_COMMANDS, message, **extra)


async def check_answers(
    tx: Tx, run: RunRow, task: WorkflowTaskRow, commands: list[dict[str, Any]]
) -> dict[str, UpdateRow]:
    """The accepted updates the batch answers, locked; ``invalid_commands`` before any write.

    Each ``update_id`` once per batch, the task's own update if it carries one, and an update of
    this run that is still ``accepted``.
    """
    answers = [cmd for cmd in commands if cmd["type"] in UPDATE_COMMANDS]
    if not answers:
        return {}
    ids = [str(cmd["update_id"]) for cmd in answers]
    if len(set(ids)) != len(ids):
        raise _invalid("A workflow task completion may answer each update once.")
    own = task.get("workflow_update_id")
    found: dict[str, UpdateRow] = {}
    for update_id in ids:
        if own and update_id != own:
            raise _invalid(
                f"This workflow task delivers update [{own}], not [{update_id}].", update_id=update_id
            )
        row = cast(
            UpdateRow | None,
            await tx.one(tx.store.lock(rows.OF_RUN), {"b_update_id": update_id, "b_run_id": run["run_id"]}),
        )
        if row is None or row["status"] != UpdateStatus.ACCEPTED:
            state = "unknown to this run" if row is None else f"already {row['status']}"
            raise _invalid(f"Update [{update_id}] is {state}.", update_id=update_id)
        found[update_id] = row
    return found


async def apply_answer(
    tx: Tx, run: RunRow, update: UpdateRow, cmd: dict[str, Any], sequence: int
) -> list[Event]:
    """The events of one ``complete_update`` / ``fail_update``, and the row closed."""
    common = {
        "workflow_command_id": update["command_id"],
        "update_id": update["update_id"],
        "workflow_instance_id": run["workflow_id"],
        "workflow_run_id": run["run_id"],
        "update_name": update["update_name"],
        "sequence": sequence,
    }
    values: dict[str, Any] = {"workflow_sequence": sequence, "closed_at": tx.now}
    if cmd["type"] == c.COMPLETE_UPDATE:
        codec, blob = cmd["result"] or (run["payload_codec"], None)
        applied = {**common, "arguments": update["arguments_blob"], "payload_codec": update["payload_codec"]}
        completed = {**common, "result": blob, "payload_codec": codec}
        values.update(status=UpdateStatus.COMPLETED, result_codec=codec, result_blob=blob, applied_at=tx.now)
        events: list[Event] = [(EventType.UPDATE_APPLIED, applied), (EventType.UPDATE_COMPLETED, completed)]
    else:
        failure = {"failure_id": new_id(), **h.failure_fields(cmd["failure"], "application")}
        values.update(status=UpdateStatus.FAILED, failure=failure)
        events = [(EventType.UPDATE_COMPLETED, {**common, **failure, "terminal_reason": "failed"})]
    await tx.conn.execute(rows.UPDATE, {"b_update_id": update["update_id"], **values})
    tx.wakes.add(result_key(run["namespace"], update["update_id"]))
    return events


async def deliver_next(tx: Tx, run: RunRow) -> None:
    """After answers: the next accepted update's task, then a plain task for the workflow."""
    following = await tx.one(rows.ACCEPTED_OF_RUN, {"b_run_id": run["run_id"]})
    if following is not None:
        await ensure_workflow_task(tx, run, update_id=following["update_id"])
    await ensure_workflow_task(tx, run)


async def fail_open(tx: Tx, run: RunRow) -> None:
    """A closed run answers no update: its accepted ones fail, and their waiting callers learn it."""
    for update in cast(list[UpdateRow], await tx.all(rows.ACCEPTED_OF_RUN, {"b_run_id": run["run_id"]})):
        failure = {
            "failure_id": new_id(),
            **h.failure_fields({"message": RUN_CLOSED_MESSAGE, "exception_type": "RunClosed"}, "application"),
            "run_status": run["status"],
        }
        await tx.conn.execute(
            rows.UPDATE,
            {
                "b_update_id": update["update_id"],
                "status": UpdateStatus.FAILED,
                "failure": failure,
                "closed_at": tx.now,
            },
        )
        tx.wakes.add(result_key(run["namespace"], update["update_id"]))
