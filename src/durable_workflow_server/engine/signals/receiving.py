"""Receiving a signal: ``SignalReceived`` and a ``signals`` row in one transaction, then a task.

The run gets a ready workflow task unless it already has one (the merge rule of
``ensure_workflow_task``). A signal arriving while a task of the run is leased therefore leaves
a ready task beside the leased one; claims never hand out a second task of a run whose task is
leased (``workflow_tasks.claims``), so that ready task reaches a worker after the leased one has
completed, with a history that holds the signal: it is never lost.

A ``request_id`` makes a retried POST to the same run idempotent (``uq_signals_request``, per
run: a new run under a reused workflow id takes every signal): the retry is looked up under the
run lock, answered with the first attempt's command result, and records nothing. Looking first
matters on PostgreSQL, where a failed insert aborts the whole transaction. Signals a run received
while its last task was leased move with a continue-as-new (``carry_to``), so their retries still
find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.history import EventType

from ...store.rows import SignalRow
from ...store.statuses import SignalStatus
from ..errors import DomainError
from ..external_storage import offloading
from ..history.rows import append
from ..targets import CommandResultBody, Target, command_result, lock_target
from ..transaction import Tx
from ..util import new_id
from ..workflow_tasks.rows import ensure_workflow_task
from . import rows

OUTCOME = "signal_received"


class SignalResultBody(CommandResultBody, total=False):
    """The command result of a signal: the shared body plus the signal's own fields."""

    signal_name: str
    signal_id: str


@dataclass(frozen=True)
class SignalRequest:
    """A validated signal POST: the name has passed the operation-name rules, ``input`` is an envelope."""

    workflow_id: str
    signal_name: str
    codec: str
    blob: str
    run_id: str | None = None
    request_id: str | None = None


def _answer(target: Target, signal: SignalRow) -> SignalResultBody:
    body = cast(
        SignalResultBody,
        command_result(
            target,
            outcome=OUTCOME,
            command_id=signal["command_id"],
            command_sequence=signal["history_sequence"],
            signal_name=signal["signal_name"],
            signal_id=signal["signal_id"],
        ),
    )
    return body


async def _recorded(tx: Tx, target: Target, request: SignalRequest) -> SignalRow | None:
    if request.request_id is None:
        return None
    params = {"b_run_id": target.run["run_id"], "b_request_id": request.request_id}
    return cast(SignalRow | None, await tx.one(rows.BY_REQUEST, params))


async def receive_signal(tx: Tx, namespace: str, request: SignalRequest) -> SignalResultBody:
    """Record ``request`` against the run it targets and queue a workflow task for it."""
    try:
        target = await lock_target(tx, namespace, request.workflow_id, request.run_id)
    except DomainError as exc:
        if exc.reason != reasons.RUN_NOT_ACTIVE or request.request_id is None:
            raise
        # The run closed after the first attempt recorded the signal: the retry still gets
        # that attempt's answer.
        target = await lock_target(tx, namespace, request.workflow_id, request.run_id, require_open=False)
        earlier = await _recorded(tx, target, request)
        if earlier is None:
            raise
        return _answer(target, earlier)
    earlier = await _recorded(tx, target, request)
    if earlier is not None:
        return _answer(target, earlier)
    run = target.run
    blob = await offloading.accept(tx, namespace, run["run_id"], request.codec, request.blob, field="input")
    signal_id, command_id = new_id(), new_id()
    payload = {
        "workflow_command_id": command_id,
        "signal_id": signal_id,
        "workflow_instance_id": run["workflow_id"],
        "workflow_run_id": run["run_id"],
        "signal_name": request.signal_name,
        "signal_wait_id": None,
        "arguments": blob,
        "payload_codec": request.codec,
        "request_id": request.request_id,
    }
    (event,) = await append(tx, run, [(EventType.SIGNAL_RECEIVED, payload)])
    signal: SignalRow = {
        "signal_id": signal_id,
        "run_id": run["run_id"],
        "workflow_id": run["workflow_id"],
        "namespace": run["namespace"],
        "signal_name": request.signal_name,
        "payload_codec": request.codec,
        "arguments_blob": blob,
        "request_id": request.request_id,
        "command_id": command_id,
        "history_sequence": int(event["sequence"]),
        "status": SignalStatus.RECEIVED,
        "received_at": tx.now,
        "applied_at": None,
    }
    await tx.conn.execute(rows.INSERT, signal)
    await ensure_workflow_task(tx, run)
    return _answer(target, signal)
