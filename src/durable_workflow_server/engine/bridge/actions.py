"""What each bridge action does: the engine's own start, signal and update, and their outcome.

Each action is idempotent by itself as well (the claim in :mod:`.service` is the first line):
a start's workflow id is derived from the key unless the target names one, so a redelivery
finds the run it started; signals and updates carry a request id derived from the key.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from durable_workflow.protocol import errors as reasons

from ..api import StartWorkflowRequest, UpdateRequest
from ..errors import DomainError
from ..signals.receiving import SignalRequest
from .shapes import DUPLICATE_START, UNKNOWN_TARGET, BridgeAdapterOutcomeBody, BridgeEvent, outcome_body

if TYPE_CHECKING:
    from ..api import EngineAPI

_UNSAFE = re.compile(r"[^a-zA-Z0-9._:-]")


def derived_workflow_id(adapter: str, idempotency_key: str) -> str:
    """``bridge-<adapter>-<first 32 hex digits of sha256(idempotency_key)>`` (control-plane.md §7.1)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"bridge-{_UNSAFE.sub('-', adapter)}-{digest}"


def request_id(event: BridgeEvent) -> str:
    """The request id a signal or update of this event carries (one per adapter and key)."""
    digest = hashlib.sha256(f"{event.adapter}\0{event.idempotency_key}".encode()).hexdigest()[:48]
    return f"bridge:{digest}"


def start_workflow_id(event: BridgeEvent) -> str:
    return event.target.workflow_id or derived_workflow_id(event.adapter, event.idempotency_key)


def _answer(event: BridgeEvent, **fields: object) -> BridgeAdapterOutcomeBody:
    return outcome_body(
        adapter=event.adapter,
        action=event.action,
        idempotency_key=event.idempotency_key,
        target=event.target_summary,
        correlation=event.correlation,
        **fields,  # type: ignore[arg-type]
    )


def refusal(event: BridgeEvent, exc: DomainError) -> BridgeAdapterOutcomeBody:
    """A refused action as a ``rejected`` outcome (a missing workflow is ``unknown_target``)."""
    unknown = exc.reason in (reasons.INSTANCE_NOT_FOUND, reasons.WORKFLOW_NOT_FOUND, reasons.RUN_NOT_FOUND)
    errors = exc.extra.get("errors")
    return _answer(
        event,
        outcome="rejected",
        reason=UNKNOWN_TARGET if unknown else exc.reason,
        workflow_id=event.target.workflow_id,
        control_plane_outcome=exc.extra.get("outcome"),
        message=exc.message,
        errors=errors if isinstance(errors, dict) else None,
    )


async def start(engine: EngineAPI, namespace: str, event: BridgeEvent) -> BridgeAdapterOutcomeBody:
    target = event.target
    assert target.workflow_type is not None  # checked by the HTTP layer
    request = StartWorkflowRequest(
        workflow_type=target.workflow_type,
        input={"codec": event.input["codec"], "blob": event.input["blob"]},
        workflow_id=start_workflow_id(event),
        task_queue=target.task_queue,
        business_key=target.business_key,
        duplicate_policy="use-existing" if target.duplicate_policy == "use_existing" else "fail",
    )
    try:
        started = await engine.start_workflow(namespace, request)
    except DomainError as exc:
        if exc.reason != reasons.DUPLICATE_NOT_ALLOWED:
            return refusal(event, exc)
        # The reference contract: a start the duplicate policy refused is still an accepted
        # hand-off (the workflow exists); control_plane_outcome says what the start did.
        return _answer(
            event,
            outcome="accepted",
            workflow_id=exc.extra.get("workflow_id"),
            run_id=exc.extra.get("run_id"),
            workflow_type=exc.extra.get("workflow_type"),
            control_plane_outcome=exc.extra.get("outcome"),
        )
    existing = started["outcome"] == "returned_existing_active"
    return _answer(
        event,
        outcome="duplicate" if existing else "accepted",
        reason=DUPLICATE_START if existing else None,
        workflow_id=started["workflow_id"],
        run_id=started["run_id"],
        workflow_type=started["workflow_type"],
        control_plane_outcome=started["outcome"],
    )


async def signal(engine: EngineAPI, namespace: str, event: BridgeEvent) -> BridgeAdapterOutcomeBody:
    target = event.target
    assert target.workflow_id is not None and target.signal_name is not None
    request = SignalRequest(
        workflow_id=target.workflow_id,
        signal_name=target.signal_name,
        codec=event.input["codec"],
        blob=event.input["blob"],
        request_id=request_id(event),
    )
    try:
        result = await engine.signal_workflow(namespace, request)
    except DomainError as exc:
        return refusal(event, exc)
    return _answer(
        event,
        outcome="accepted",
        workflow_id=result.get("workflow_id"),
        run_id=result.get("run_id"),
        workflow_type=result.get("workflow_type"),
        control_plane_outcome=result.get("outcome"),
    )


async def update(engine: EngineAPI, namespace: str, event: BridgeEvent) -> BridgeAdapterOutcomeBody:
    target = event.target
    assert target.workflow_id is not None and target.update_name is not None
    request = UpdateRequest(
        workflow_id=target.workflow_id,
        update_name=target.update_name,
        arguments=event.input,
        request_id=request_id(event),
        wait_for=target.wait_for,
        wait_timeout_seconds=target.wait_timeout_seconds,
    )
    try:
        result = await engine.update_workflow(namespace, request)
    except DomainError as exc:
        return refusal(event, exc)
    return _answer(
        event,
        outcome="accepted",
        workflow_id=result.get("workflow_id"),
        run_id=result.get("run_id"),
        workflow_type=result.get("workflow_type"),
        control_plane_outcome=result.get("outcome") or f"update_{result.get('update_status', 'accepted')}",
    )
