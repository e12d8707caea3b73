"""Archive: mark a closed run archived, once (see docs/protocol.md).

A closed run gets ``ArchiveRequested`` and ``WorkflowArchived`` and its ``archived_at``,
``archive_reason`` and ``archive_command_id`` set; the answer is ``archived``. A run already
archived answers ``archive_not_needed`` and records nothing; an open run is refused with
``run_not_closed`` (409, outcome ``rejected_run_not_closed``). Archiving keeps the history
readable: this server retains archived runs as they are.
"""

from __future__ import annotations

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.history import EventType

from .history.rows import append
from .runs.rows import is_terminal_run, progress, update_run
from .targets import ArchiveResultBody, Target, command_ids, command_result, refusal, requested_event
from .transaction import Tx
from .util import new_id, rfc3339


async def archive(tx: Tx, target: Target, *, reason: str | None, request_id: str | None) -> ArchiveResultBody:
    """Archive the locked run of ``target`` (closed or not: this decides)."""
    run = target.run
    if not is_terminal_run(run):
        raise refusal(
            target,
            reasons.RUN_NOT_CLOSED,
            "rejected_run_not_closed",
            f"Workflow [{run['workflow_id']}] run [{run['run_id']}] is {run['status']}; "
            "only a closed run can be archived.",
        )
    if run["archived_at"] is not None:
        not_needed = command_result(
            target,
            outcome="archive_not_needed",
            command_id=run["archive_command_id"] or new_id(),
            command_sequence=None,
            # The caller's reason, as for every answer (§8.3.7); the stored one is in describe.
            reason=reason,
        )
        return {**not_needed, "archived_at": rfc3339(run["archived_at"])}
    command_id = new_id()
    requested = requested_event(run, command_id, "archive", request_id, reason=reason)
    archived = {
        **command_ids(run, command_id),
        "archive_command_id": command_id,
        "outcome": "archived",
        "reason": reason,
        "archived_at": rfc3339(tx.now),
    }
    written = await append(
        tx,
        run,
        [(EventType.ARCHIVE_REQUESTED, requested), (EventType.WORKFLOW_ARCHIVED, archived)],
        write_run=False,
    )
    await update_run(
        tx, run, archived_at=tx.now, archive_reason=reason, archive_command_id=command_id, **progress(run)
    )
    archived_body = command_result(
        target,
        outcome="archived",
        command_id=command_id,
        command_sequence=int(written[0]["sequence"]),
        reason=reason,
    )
    return {**archived_body, "archived_at": rfc3339(tx.now)}
