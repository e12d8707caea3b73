"""The run a control-plane command targets, and the command-result body every command answers.

Signal, update, cancel, terminate, repair, archive, pause and resume all start the same way:
find the instance in the namespace, lock the run the caller means (the current run for the
instance routes, the named run for the run-targeted routes, which must be the current one), and
answer with the shared "command result" body (see docs/protocol.md). Keeping that here means
every command refuses the same inputs with the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

from durable_workflow.protocol import errors as reasons

from ..store.rows import InstanceRow, RunRow
from .errors import DomainError
from .runs import rows
from .runs.rows import is_terminal_run
from .transaction import Tx

TargetScope = Literal["instance", "run"]


class CommandResultBody(TypedDict, total=False):
    """The shared answer of the command endpoints (``control_plane`` is added by ``http/``)."""

    outcome: str
    workflow_id: str
    run_id: str
    requested_run_id: str | None
    resolved_run_id: str
    command_id: str
    command_sequence: int | None
    target_scope: TargetScope
    workflow_type: str
    command_status: Literal["accepted", "rejected"]
    command_source: str
    reason: str | None
    rejection_reason: str | None
    validation_errors: dict[str, list[str]]


class RepairResultBody(CommandResultBody, total=False):
    """Repair's answer: ``liveness_state`` and ``task_id`` when it dispatched work."""

    liveness_state: str
    task_id: str | None


class ArchiveResultBody(CommandResultBody, total=False):
    """Archive's answer: when the run was archived (also on ``archive_not_needed``)."""

    archived_at: str | None


@dataclass(frozen=True)
class Target:
    """The locked run a command acts on."""

    instance: InstanceRow
    run: RunRow
    scope: TargetScope
    requested_run_id: str | None


async def lock_target(
    tx: Tx, namespace: str, workflow_id: str, run_id: str | None = None, *, require_open: bool = True
) -> Target:
    """Lock the run a command means (run row first: the engine's lock order).

    Raises ``instance_not_found`` (404) when the workflow id is not bound to ``namespace``,
    ``historical_run_command_rejected`` (409) when ``run_id`` names a run that is not the
    current one, and, with ``require_open``, ``run_not_active`` (409) when the run is closed.
    """
    params = {"b_workflow_id": workflow_id}
    for _ in range(3):
        run = cast(RunRow | None, await tx.one(tx.store.lock(rows.CURRENT_RUN_LOCKING), params))
        instance = cast(InstanceRow | None, await tx.one(rows.INSTANCE, params))
        if instance is None or instance["namespace"] != namespace or run is None:
            raise DomainError(
                reasons.INSTANCE_NOT_FOUND,
                f"Workflow [{workflow_id}] was not found.",
                workflow_id=workflow_id,
                **({"run_id": run_id} if run_id else {}),
            )
        if instance["current_run_id"] == run["run_id"]:
            break
        # A continue-as-new moved the instance on between the two reads: read again.
    else:  # pragma: no cover - three hand-overs inside one request
        raise DomainError(reasons.RUN_NOT_ACTIVE, f"Workflow [{workflow_id}] is changing runs; retry.")
    scope: TargetScope = "run" if run_id else "instance"
    if run_id and run_id != run["run_id"]:
        raise DomainError(
            reasons.HISTORICAL_RUN_COMMAND_REJECTED,
            f"Run [{run_id}] is not the current run of workflow [{workflow_id}].",
            workflow_id=workflow_id,
            run_id=run_id,
            target_scope="run",
        )
    target = Target(instance, run, scope, run_id)
    if require_open and is_terminal_run(run):
        raise refusal(
            target,
            reasons.RUN_NOT_ACTIVE,
            "rejected_not_active",
            f"Workflow [{workflow_id}] run [{run['run_id']}] is {run['status']}.",
        )
    return target


def refusal(target: Target, reason: str, outcome: str, message: str) -> DomainError:
    """The command-result refusal of a locked target (409 through ``http/errors.py``).

    Carries ``outcome`` (``rejected_*``), ``rejection_reason`` and ``command_status`` like the
    reference server (control-plane.md §8.3.7); never a ``status`` key, which that body strips.
    """
    return DomainError(
        reason,
        message,
        outcome=outcome,
        workflow_id=target.run["workflow_id"],
        run_id=target.run["run_id"],
        requested_run_id=target.requested_run_id,
        resolved_run_id=target.run["run_id"],
        target_scope=target.scope,
        workflow_type=target.run["workflow_type"],
        command_status="rejected",
        command_source="control_plane",
        rejection_reason=reason,
    )


def command_ids(run: RunRow, command_id: str) -> dict[str, Any]:
    """The ids every history event of a control-plane command carries."""
    return {
        "workflow_command_id": command_id,
        "workflow_instance_id": run["workflow_id"],
        "workflow_run_id": run["run_id"],
    }


def requested_event(
    run: RunRow, command_id: str, command_type: str, request_id: str | None, **fields: Any
) -> dict[str, Any]:
    """The payload of a command's ``*Requested`` event (``request_id`` only when the caller sent one)."""
    payload = {**command_ids(run, command_id), "command_type": command_type, **fields}
    if request_id is not None:
        payload["request_id"] = request_id
    return payload


def command_result(
    target: Target,
    *,
    outcome: str,
    command_id: str,
    command_sequence: int | None,
    reason: str | None = None,
    **extra: Any,
) -> CommandResultBody:
    """The accepted command's answer; ``extra`` carries the operation's own fields."""
    body: CommandResultBody = {
        "outcome": outcome,
        "workflow_id": target.run["workflow_id"],
        "run_id": target.run["run_id"],
        "requested_run_id": target.requested_run_id,
        "resolved_run_id": target.run["run_id"],
        "command_id": command_id,
        "command_sequence": command_sequence,
        "target_scope": target.scope,
        "workflow_type": target.run["workflow_type"],
        "command_status": "accepted",
        "command_source": "control_plane",
        "reason": reason,
        "rejection_reason": None,
        "validation_errors": {},
    }
    body.update(extra)  # type: ignore[typeddict-item]
    return body
