"""Creating and closing runs.

A control-plane start, a continue-as-new and a child start share :func:`create_run`; every way a
run ends (completion, failure, continue-as-new, a timeout, cancel, terminate) goes through
:func:`close_run`, which retires the run's open work in each table through that table's own
statements, tells a child's parent (``engine.children``) and applies the run's parent-close
policy to its own children.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from durable_workflow.protocol.history import EventType

from ...store.rows import RunRow, WorkflowTaskRow
from ...store.statuses import RunStatus
from ..activities import rows as activity_rows
from ..activities.deadlines import earliest
from ..children import hooks as child_hooks
from ..conditions import waits as conditions
from ..history import events as h
from ..history.rows import append, take_pending
from ..search_attributes import rows as search_attribute_rows
from ..task_queues import cohorts
from ..timers import rows as timer_rows
from ..transaction import Tx
from ..updates import applying as updates
from ..util import new_id, seconds
from ..workflow_tasks import rows as workflow_task_rows
from ..workflow_tasks.rows import ensure_workflow_task
from .close_wait import close_key
from .opening import insert_opening
from .rows import INSERT_RUN, progress, update_run
from .steps import STEP_ACTIVITY, STEP_CHILD, STEP_TIMER, Step

if TYPE_CHECKING:
    from ..workflow_tasks.eager import FirstTaskLease


@dataclass(frozen=True)
class ParentLink:
    """The parent of a child run: its run, workflow id and the ``child_links`` row."""

    run_id: str
    workflow_id: str
    link_id: str


async def create_run(
    tx: Tx,
    *,
    namespace: str,
    workflow_id: str,
    workflow_type: str,
    task_queue: str,
    payload_codec: str,
    input_blob: str | None,
    run_number: int,
    business_key: str | None = None,
    memo: dict[str, Any] | None = None,
    search_attributes: dict[str, Any] | None = None,
    search_attribute_types: Mapping[str, str] | None = None,
    execution_timeout_seconds: int | None = None,
    run_timeout_seconds: int | None = None,
    execution_deadline_at: Any = None,
    continued_from_run_id: str | None = None,
    run_id: str | None = None,
    parent: ParentLink | None = None,
    started_extra: Mapping[str, Any] | None = None,
    pinned_build_key: str | None = None,
    pin_known: bool = False,
    first_lease: FirstTaskLease | None = None,
) -> RunRow:
    """Insert a run in ``pending``, write its opening events and queue its first workflow task.

    The caller owns the instance row (created or updated in the same transaction); it may pick
    ``run_id`` up front to write the instance row once. A child run (``parent``) opens with
    ``WorkflowStarted`` alone, carrying ``started_extra`` (its parent and retry keys).
    ``search_attribute_types``: the registered types of ``search_attributes`` when the caller
    read them in this transaction (a start checked them), so they are not read twice.
    ``pin_known``: ``pinned_build_key`` is the queue's promoted cohort, read in this transaction.
    ``first_lease``: the first task goes in leased to its worker, and the run as that claim
    leaves it (``running``; see ``workflow_tasks/eager.py``).
    """
    run_id = run_id or new_id()
    command_id = new_id()
    memo = dict(memo or {})
    search_attributes = dict(search_attributes or {})
    if execution_deadline_at is None and execution_timeout_seconds:
        execution_deadline_at = tx.now + seconds(execution_timeout_seconds)
    # A continue-as-new run inherits the execution deadline but gets a fresh run deadline.
    run_deadline_at = tx.now + seconds(run_timeout_seconds) if run_timeout_seconds else None
    timeout_at = earliest(execution_deadline_at, run_deadline_at)
    run: RunRow = {
        "run_id": run_id,
        "workflow_id": workflow_id,
        "namespace": namespace,
        "run_number": run_number,
        "workflow_type": workflow_type,
        "task_queue": task_queue,
        "status": RunStatus.PENDING if first_lease is None else RunStatus.RUNNING,
        "closed_reason": None,
        "business_key": business_key,
        "memo": memo,
        "search_attributes": search_attributes,
        "payload_codec": payload_codec,
        "input_blob": input_blob,
        "output_codec": None,
        "output_blob": None,
        "execution_timeout_seconds": execution_timeout_seconds,
        "run_timeout_seconds": run_timeout_seconds,
        "execution_deadline_at": execution_deadline_at,
        "run_deadline_at": run_deadline_at,
        "timeout_at": timeout_at,
        "started_at": tx.now,
        "closed_at": None,
        "last_progress_at": tx.now,
        "last_history_sequence": 0,
        "wait_kind": None,
        "wait_reason": None,
        "parent_run_id": parent.run_id if parent else None,
        "parent_workflow_id": parent.workflow_id if parent else None,
        "parent_link_id": parent.link_id if parent else None,
        "paused_at": None,
        "pause_reason": None,
        "archived_at": None,
        "archive_reason": None,
        "archive_command_id": None,
        # New runs of a queue with a promoted build-id cohort are that cohort's to run.
        "pinned_build_key": pinned_build_key
        if pin_known
        else await cohorts.pin_for_new_run(tx, namespace, task_queue),
        "sticky_worker_id": None,
        "sticky_history_sequence": None,
    }
    events: list[tuple[str, dict[str, Any]]] = []
    if continued_from_run_id is None and parent is None:
        events.append(
            (
                EventType.START_ACCEPTED,
                h.start_accepted(
                    workflow_id=workflow_id,
                    run_id=run_id,
                    command_id=command_id,
                    workflow_type=workflow_type,
                    business_key=business_key,
                    memo=memo,
                    search_attributes=search_attributes,
                ),
            )
        )
    started = h.workflow_started(
        now=tx.now,
        workflow_id=workflow_id,
        run_id=run_id,
        command_id=command_id,
        workflow_type=workflow_type,
        run_number=run_number,
        task_queue=task_queue,
        payload_codec=payload_codec,
        input_blob=input_blob,
        business_key=business_key,
        memo=memo,
        search_attributes=search_attributes,
        execution_timeout_seconds=execution_timeout_seconds,
        run_timeout_seconds=run_timeout_seconds,
        execution_deadline_at=execution_deadline_at,
        run_deadline_at=run_deadline_at,
    )
    if continued_from_run_id is not None:
        started["continued_from_run_id"] = continued_from_run_id
    started.update(started_extra or {})
    events.append((EventType.WORKFLOW_STARTED, started))
    # PostgreSQL: the events, the run and its first task in one statement (runs/opening.py).
    one_statement = tx.store.dialect == "postgresql"
    # The events first, so the run row is inserted once, already at its last sequence.
    await append(tx, run, events, write_run=False, defer=one_statement)
    if one_statement:
        await _insert_opening(tx, run, first_lease)
    else:
        await tx.conn.execute(INSERT_RUN, run)
    # A new run of an instance whose run this transaction closed: its describe is the new run's.
    tx.closed_runs.pop(close_key(namespace, workflow_id), None)
    if search_attributes:
        await search_attribute_rows.write_values(
            tx, run_id, namespace, search_attributes, replace=False, types=search_attribute_types
        )
    if one_statement:
        pass  # the first task went in with the run
    elif first_lease is None:
        await ensure_workflow_task(tx, run, new_run=True)
    else:
        await first_lease.insert(tx, run)
    tx.due(timeout_at)  # wakes the background loop (here and, via NOTIFY, elsewhere) in time
    return run


async def _insert_opening(tx: Tx, run: RunRow, first_lease: FirstTaskLease | None) -> None:
    """The run's appended events, its row and its first task in one statement (``runs.opening``),
    the task as :func:`ensure_workflow_task` (``new_run``) or ``first_lease`` would insert it."""
    if first_lease is None:
        task = {**workflow_task_rows.queued_values(tx, run), "workflow_update_id": None}
    else:
        task = first_lease.values(tx, run)
    await insert_opening(tx, run, take_pending(tx), task)
    if first_lease is None:
        tx.wakes.add(("workflow", run["namespace"], run["task_queue"]))
    else:
        first_lease.task = cast(WorkflowTaskRow, task)


async def close_run(
    tx: Tx,
    run: RunRow,
    *,
    status: str,
    closed_reason: str,
    steps: list[Step] | None = None,
    condition_waits: bool = True,
    other_tasks: bool = True,
    accepted_updates: bool = True,
    **values: Any,
) -> None:
    """Mark ``run`` terminal and retire its open work (tasks, activity tasks, timers).

    Also writes the run's :func:`progress`. ``steps``, when the caller already knows every step
    of the run (under the run lock), lets statements for kinds of work with nothing open be
    skipped: an activity task or attempt is only open while its execution is pending or running,
    and the first run of an instance with no child step has no child link to apply a policy to
    (a continued run may hold its predecessors' links). ``condition_waits=False``: the caller
    knows the run has no open condition wait (nor, then, a wait's timeout timer);
    ``other_tasks=False``: no open workflow task but the one completing (which its completion
    closes); ``accepted_updates=False``: no accepted update.
    """
    await update_run(
        tx,
        run,
        status=status,
        closed_reason=closed_reason,
        closed_at=tx.now,
        timeout_at=None,  # a closed run has no deadline left to enforce
        wait_kind=None,
        wait_reason=None,
        **progress(run),
        **values,
    )
    # Wakes the callers waiting for this instance's close (close_wait.py), here and elsewhere;
    # those here are handed the run's describe (a continued run's successor carries the result).
    key = close_key(run["namespace"], run["workflow_id"])
    tx.wakes.add(key)
    if closed_reason == "continued":
        tx.closed_runs.pop(key, None)
    else:
        tx.closed_runs[key] = run
    if other_tasks:
        await workflow_task_rows.cancel_open_of_run(tx, run["run_id"])
    if steps is None or any(s.kind == STEP_ACTIVITY and not s.resolved for s in steps):
        await activity_rows.cancel_open_of_run(tx, run["run_id"])
    if steps is None or any(s.kind == STEP_TIMER and not s.resolved for s in steps):
        await timer_rows.cancel_pending_of_run(tx, run["run_id"])
    if condition_waits:
        await conditions.cancel_open_of_run(tx, run["run_id"])
    if accepted_updates:
        await updates.fail_open(tx, run)  # their callers are answered: update_failed
    if run["parent_link_id"] is not None:
        await child_hooks.child_closed(tx, run)
    no_links = steps is not None and run["run_number"] == 1 and not any(s.kind == STEP_CHILD for s in steps)
    if closed_reason != "continued" and not no_links:
        await child_hooks.parent_closed(tx, run, close_run)
