"""Creating runs: a control-plane start and a continue-as-new share one code path."""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol.history import EventType, RunStatus

from . import history as h
from .deadlines import earliest
from .runs import INSERT_RUN, Tx, append, ensure_workflow_task
from .util import new_id, seconds


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
    execution_timeout_seconds: int | None = None,
    run_timeout_seconds: int | None = None,
    execution_deadline_at: Any = None,
    continued_from_run_id: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Insert a run in ``pending``, write its opening events and queue its first workflow task.

    The caller owns the instance row (created or updated in the same transaction); it may pick
    ``run_id`` up front to write the instance row once.
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
    run: dict[str, Any] = {
        "run_id": run_id,
        "workflow_id": workflow_id,
        "namespace": namespace,
        "run_number": run_number,
        "workflow_type": workflow_type,
        "task_queue": task_queue,
        "status": RunStatus.PENDING,
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
    }
    events: list[tuple[str, dict[str, Any]]] = []
    if continued_from_run_id is None:
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
    events.append((EventType.WORKFLOW_STARTED, started))
    # The events first, so the run row is inserted once, already at its last sequence.
    await append(tx, run, events, write_run=False)
    await tx.conn.execute(INSERT_RUN, run)
    await ensure_workflow_task(tx, run, new_run=True)
    tx.due(timeout_at)  # wakes the background loop (here and, via NOTIFY, elsewhere) in time
    return run
