"""Apply a validated workflow-task completion to a run (see docs/protocol.md).

Everything happens inside the caller's transaction: history events, the run projection, new
activity executions/tasks and timers are written together or not at all.

Re-sent steps: SDK 0.4.84 re-emits commands for steps that are scheduled and still unresolved.
Workflow sequences restart at ``last_history_sequence + 1`` on every task, so they cannot
identify a duplicate; instead the leading blocking commands of the batch are compared with the
batch of the run's first unresolved step (:func:`count_reemissions`). A match is the same step
again, so nothing is created for it: one activity execution per step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.protocol import commands as c
from durable_workflow.protocol.history import EventType

from ...store.rows import RunRow, WorkflowTaskRow
from ...store.statuses import RunStatus
from ..activities.scheduling import Scheduled
from ..activities.scheduling import schedule as schedule_activity
from ..children.starting import start_child
from ..conditions import waits as conditions
from ..history import events as h
from ..history import rows as history_rows
from ..history.rows import append
from ..runs import rows as run_rows
from ..runs.lifecycle import ParentLink, close_run, create_run
from ..runs.rows import progress, update_run
from ..runs.steps import STEP_ACTIVITY, STEP_CHILD, STEP_TIMER, Step, close_task_reading_work, wait_kind
from ..search_attributes import rows as search_attribute_rows
from ..timers.firing import start_timer
from ..transaction import Tx
from ..updates import applying as updates
from ..util import new_id
from ..validation import BLOCKING, UPDATE_COMMANDS

Event = tuple[str, dict[str, Any]]


@dataclass
class Applied:
    run_status: str
    created_task_ids: list[str] = field(default_factory=list)
    new_run: RunRow | None = None
    # The history sequence of the run's earliest received, not yet applied signal (read with
    # its steps), if any.
    earliest_signal: int | None = None
    # Whether another task of the run is ready after the batch (``None``: not known, read it).
    other_ready: bool | None = None


def _matches(command: dict[str, Any], step: Step) -> bool:
    if command["type"] == c.SCHEDULE_ACTIVITY:
        return step.kind == STEP_ACTIVITY and step.activity_type == command["activity_type"]
    if command["type"] == c.START_TIMER:
        return step.kind == STEP_TIMER and step.delay_seconds == command["delay_seconds"]
    if command["type"] == c.START_CHILD_WORKFLOW:
        return step.kind == STEP_CHILD and step.workflow_type == command["workflow_type"]
    return False


def count_reemissions(blocking: list[dict[str, Any]], steps: list[Step]) -> int:
    """How many leading blocking commands repeat the batch of the first unresolved step."""
    unresolved = [s for s in steps if not s.resolved]
    if not unresolved:
        return 0
    batch = [s for s in steps if s.batch_id == unresolved[0].batch_id]
    count = 0
    while count < len(blocking) and count < len(batch) and _matches(blocking[count], batch[count]):
        count += 1
    return count


_RESOLUTIONS = (
    EventType.ACTIVITY_COMPLETED,
    EventType.ACTIVITY_FAILED,
    EventType.ACTIVITY_TIMED_OUT,
    EventType.ACTIVITY_CANCELLED,
    EventType.TIMER_FIRED,
    EventType.TIMER_CANCELLED,
    EventType.CHILD_RUN_COMPLETED,
    EventType.CHILD_RUN_FAILED,
    EventType.CHILD_RUN_CANCELLED,
    EventType.CHILD_RUN_TERMINATED,
)
_RESOLVED_AFTER = history_rows.payloads_after(_RESOLUTIONS)


def _late(run: RunRow, task: WorkflowTaskRow) -> bool:
    """Whether the run recorded events after ``task`` was leased (its worker did not see them)."""
    handed = task.get("history_sequence")
    return handed is not None and int(handed) < int(run["last_history_sequence"])


async def _as_seen(tx: Tx, run: RunRow, task: WorkflowTaskRow, steps: list[Step]) -> list[Step]:
    """``steps`` as the worker saw them: a step resolved after its task was leased is still open.

    A step can resolve while a workflow task of the run is leased (a wake-up delivered it while
    the step was open). That worker replayed a history without the result and re-sends the step;
    judged against the current state it would look new and be scheduled a second time.
    """
    if not _late(run, task):
        return steps
    handed = int(task["history_sequence"] or 0)  # not None: late
    rows = await tx.all(_RESOLVED_AFTER, {"b_run_id": run["run_id"], "b_after": handed})
    late = {(r["payload"] or {}).get("activity_execution_id") for r in rows}
    late |= {(r["payload"] or {}).get("timer_id") for r in rows}
    late |= {(r["payload"] or {}).get("workflow_link_id") for r in rows}
    late.discard(None)
    if not late:
        return steps
    return [dataclasses.replace(s, resolved=False) if s.step_id in late else s for s in steps]


def _upsert_attributes(run: RunRow, attributes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(run.get("search_attributes") or {})
    for key, value in attributes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def apply_commands(
    tx: Tx,
    run: RunRow,
    task: WorkflowTaskRow,
    commands: list[dict[str, Any]],
    open_run_values: dict[str, Any] | None = None,
) -> Applied:
    """Apply ``commands`` (already validated) for the leased ``task`` of ``run``, and mark the
    task completed (its first write, in the statement reading what the run has open).

    ``open_run_values``: more run columns to write if the run stays open (its sticky worker).

    The run's steps are read once; steps created by this batch are added in memory, so the
    wait kind and the close-out see them without reading the tables again. The history events
    of the whole batch go in with one multi-row insert, and the run row is written once.
    """
    batch_id = task["task_id"]
    sequence = int(run["last_history_sequence"]) + 1
    answered = await updates.check_answers(tx, run, task, commands)  # refuses before any write
    work = await close_task_reading_work(tx, batch_id, run, late=_late(run, task))
    steps = work.steps
    blocking = [cmd for cmd in commands if cmd["type"] in BLOCKING]
    seen = await _as_seen(tx, run, task, steps)
    skip = {id(cmd) for cmd in blocking[: count_reemissions(blocking, seen)]}
    # Open condition waits first: those the batch no longer keeps open were satisfied.
    settled = await conditions.settle(tx, run, task, commands, any_open=work.has_open_waits)
    skip |= settled.resent
    events: list[Event] = list(settled.events)
    applied = Applied(run_status=RunStatus.WAITING, earliest_signal=work.earliest_signal)
    terminal: dict[str, Any] | None = None
    run_values: dict[str, Any] = {}
    scheduled = Scheduled()
    for cmd in commands:
        kind = cmd["type"]
        if kind in c.TERMINAL_COMMANDS:
            terminal = cmd
            continue
        if id(cmd) in skip:
            continue
        seq, sequence = sequence, sequence + 1
        if kind == c.SCHEDULE_ACTIVITY:
            event, activity_task_id = await schedule_activity(tx, run, cmd, seq, batch_id, steps, scheduled)
            events.append(event)
            applied.created_task_ids.append(activity_task_id)
        elif kind == c.START_TIMER:
            events.append(await start_timer(tx, run, cmd, seq, batch_id, steps))
        elif kind == c.START_CHILD_WORKFLOW:
            events.extend(await start_child(tx, run, cmd, seq, batch_id, steps))
        elif kind == c.OPEN_CONDITION_WAIT:
            events.extend(await conditions.open_wait(tx, run, cmd, seq, batch_id))
        elif kind in UPDATE_COMMANDS:
            events.extend(await updates.apply_answer(tx, run, answered[cmd["update_id"]], cmd, seq))
        elif kind == c.RECORD_SIDE_EFFECT:
            codec, blob = cmd["result"]
            events.append(
                (EventType.SIDE_EFFECT_RECORDED, {"sequence": seq, "result": blob, "payload_codec": codec})
            )
        elif kind == c.RECORD_VERSION_MARKER:
            events.append(
                (
                    EventType.VERSION_MARKER_RECORDED,
                    {
                        "sequence": seq,
                        "change_id": cmd["change_id"],
                        "version": cmd["version"],
                        "min_supported": cmd["min_supported"],
                        "max_supported": cmd["max_supported"],
                    },
                )
            )
        elif kind == c.UPSERT_SEARCH_ATTRIBUTES:
            merged = _upsert_attributes(run, cmd["attributes"])
            run["search_attributes"] = run_values["search_attributes"] = merged
            events.append(
                (
                    EventType.SEARCH_ATTRIBUTES_UPSERTED,
                    {
                        "sequence": seq,
                        "attributes": cmd["attributes"],
                        "merged": merged,
                    },
                )
            )
    await scheduled.insert(tx)  # the batch's activities, before anything reads them
    steps.sort(key=lambda s: s.sequence)
    if "search_attributes" in run_values:
        await search_attribute_rows.write_values(
            tx, run["run_id"], run["namespace"], run_values["search_attributes"], replace=True
        )

    if terminal is None:
        # Deferred like the run write below: an eager activity claim's ActivityStarted goes in
        # with the batch's events (one INSERT).
        await append(tx, run, events, workflow_task_id=batch_id, write_run=False, defer=not answered)
        run_values.update(open_run_values or {})
        # Deferred (see update_run) unless an update is delivered next: an eager activity claim
        # after this completion then writes the run once with its own progress.
        values = {"status": RunStatus.WAITING, "wait_kind": wait_kind(steps), **run_values, **progress(run)}
        await update_run(tx, run, defer=not answered, **values)
        if answered:
            await updates.deliver_next(tx, run)  # may queue the next update's task
        else:
            # Nothing of this batch queues a workflow task of the run: the ones read are all.
            applied.other_ready = work.other_ready
        return applied
    if terminal["type"] == c.CONTINUE_AS_NEW:
        # Rare: keeps its own ordering (old run closed before the new one exists).
        await append(tx, run, events, workflow_task_id=batch_id, write_run=False)
        await update_run(tx, run, **run_values, **progress(run))
        applied.new_run = await _continue_as_new(tx, run, terminal, sequence, batch_id)
        applied.run_status = RunStatus.COMPLETED
        return applied
    closing, close_values = _closing_event(run, terminal)
    await append(tx, run, [*events, closing], workflow_task_id=batch_id, write_run=False)
    # Open condition waits are only the ones settle found (and kept) or this batch opened.
    waits = settled.had_open or any(cmd["type"] == c.OPEN_CONDITION_WAIT for cmd in commands)
    await close_run(
        tx,
        run,
        steps=steps,
        condition_waits=waits,
        other_tasks=work.other_open,
        accepted_updates=work.has_accepted_updates,
        **close_values,
        **run_values,
    )
    applied.run_status = close_values["status"]
    return applied


def _closing_event(run: RunRow, cmd: dict[str, Any]) -> tuple[Event, dict[str, Any]]:
    """The event and the run values of ``complete_workflow`` / ``fail_workflow``."""
    if cmd["type"] == c.COMPLETE_WORKFLOW:
        codec, blob = cmd["result"] or (run["payload_codec"], None)
        values = {
            "status": RunStatus.COMPLETED,
            "closed_reason": "completed",
            "output_blob": blob,
            "output_codec": codec,
        }
        return (EventType.WORKFLOW_COMPLETED, {"output": blob, "payload_codec": codec}), values
    payload = {
        "failure_id": new_id(),
        "source_kind": "workflow_run",
        "source_id": run["run_id"],
        **h.failure_fields(cmd["failure"], "application"),
    }
    return (EventType.WORKFLOW_FAILED, payload), {"status": RunStatus.FAILED, "closed_reason": "failed"}


def _parent_of(run: RunRow) -> ParentLink | None:
    if run["parent_link_id"] is None:
        return None
    return ParentLink(str(run["parent_run_id"]), str(run["parent_workflow_id"]), run["parent_link_id"])


def _parent_started(run: RunRow) -> dict[str, Any] | None:
    if run["parent_link_id"] is None:
        return None
    return {
        "parent_workflow_instance_id": run["parent_workflow_id"],
        "parent_workflow_run_id": run["parent_run_id"],
        "workflow_link_id": run["parent_link_id"],
    }


async def _continue_as_new(tx: Tx, run: RunRow, cmd: dict[str, Any], sequence: int, batch_id: str) -> RunRow:
    instance = await tx.one(tx.store.lock(run_rows.INSTANCE), {"b_workflow_id": run["workflow_id"]})
    assert instance is not None
    run_number = int(instance["run_count"]) + 1
    codec, blob = cmd["arguments"] or (run["payload_codec"], run["input_blob"])
    new_type = cmd["workflow_type"] or run["workflow_type"]
    # Close the old run first so the instance never shows two open runs.
    await close_run(tx, run, status=RunStatus.COMPLETED, closed_reason="continued")
    new_run = await create_run(
        tx,
        namespace=run["namespace"],
        workflow_id=run["workflow_id"],
        workflow_type=new_type,
        task_queue=cmd["queue"] or run["task_queue"],
        payload_codec=codec,
        input_blob=blob,
        run_number=run_number,
        business_key=run["business_key"],
        memo=run["memo"],
        search_attributes=run["search_attributes"],
        execution_timeout_seconds=run["execution_timeout_seconds"],
        run_timeout_seconds=run["run_timeout_seconds"],
        execution_deadline_at=run["execution_deadline_at"],
        continued_from_run_id=run["run_id"],
        # A child that continues as new stays its parent's child (the link follows it).
        parent=_parent_of(run),
        started_extra=_parent_started(run),
    )
    await append(
        tx,
        run,
        [
            (
                EventType.WORKFLOW_CONTINUED_AS_NEW,
                {
                    "sequence": sequence,
                    "continued_to_run_id": new_run["run_id"],
                    "continued_to_run_number": run_number,
                    "closed_reason": "continued",
                    "workflow_type": new_type,
                    "arguments": blob,
                    "payload_codec": codec,
                },
            )
        ],
        workflow_task_id=batch_id,
    )
    await tx.conn.execute(
        run_rows.UPDATE_INSTANCE,
        {
            "b_workflow_id": run["workflow_id"],
            "current_run_id": new_run["run_id"],
            "run_count": run_number,
            "workflow_type": new_type,
        },
    )
    return new_run
