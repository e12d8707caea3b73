"""``UpdateCommands``: ``POST /workflows/{id}/update/{name}`` (and the run-targeted form).

With a live worker that validates updates before acceptance (capability ``update_validation``),
the update's validator runs first through a query task of kind ``update_validation``: a refusal
answers ``update_rejected`` (or ``unknown_update``) and records nothing. Then the update is
accepted (``UpdateAccepted``, the ``updates`` row, its workflow task) and, with
``wait_for="completed"``, the caller waits until the worker's answer closes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from durable_workflow.protocol import capabilities, codec
from durable_workflow.protocol import errors as reasons

from ...store.rows import UpdateRow
from ...store.statuses import UpdateStatus
from ..api import UpdateRequest
from ..errors import DomainError
from ..external_storage import offloading
from ..external_storage.stored import reference_of, wire_envelope
from ..queries import broker
from ..queries.service import QueryTasks
from ..targets import Target, command_result, lock_target
from ..util import rfc3339
from ..waiters import long_poll
from . import applying, rows
from .shapes import UpdateResultBody

_OUTCOMES = {UpdateStatus.COMPLETED: "update_completed", UpdateStatus.FAILED: "update_failed"}


class UpdateCommands(QueryTasks):
    """``EngineAPI.update_workflow``."""

    async def update_workflow(self, namespace: str, request: UpdateRequest) -> UpdateResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, request.workflow_id, request.run_id)
                validating = await broker.live_worker(
                    tx,
                    target.run,
                    self.settings.worker_stale_after_seconds,
                    capabilities.WORKER_UPDATE_VALIDATION,
                )
                # A sender's reference is fetched (and verified) once, before the validator sees it.
                resolved = await offloading.resolve_envelope(tx, namespace, request.arguments, field="input")
                assert resolved is not None
                request = replace(request, arguments=resolved)
        if validating:
            await self._validate(target, request)
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, request.workflow_id, request.run_id)
                codec_name, blob = request.arguments["codec"], request.arguments["blob"]
                blob = await offloading.accept(
                    tx, namespace, target.run["run_id"], codec_name, blob, field="input"
                )
                update = await applying.accept(
                    tx,
                    target.run,
                    update_name=request.update_name,
                    arguments={"codec": codec_name, "blob": blob},
                    request_id=request.request_id,
                )
        timed_out = False
        if request.wait_for == "completed":
            closed = await self._closed(namespace, update["update_id"], request.wait_timeout_seconds)
            timed_out = closed is None
            update = closed or update
        return _body(target, update, request, timed_out)

    async def _validate(self, target: Target, request: UpdateRequest) -> None:
        """Ask a worker to run the update's validator; raise its refusal (nothing is recorded)."""
        answer = await self.ask_worker(
            target.run, kind=broker.UPDATE_VALIDATION, name=request.update_name, arguments=request.arguments
        )
        # No answer in time: accept anyway; the worker runs the validator again on delivery.
        if answer.status != "failed":
            return
        failure = answer.failure or {}
        worker_reason = str(failure.get("reason") or reasons.UPDATE_REJECTED)
        message = str(failure.get("message") or f"Update [{request.update_name}] was rejected.")
        unknown = worker_reason == reasons.UNKNOWN_UPDATE
        raise DomainError(
            reasons.UNKNOWN_UPDATE if unknown else reasons.UPDATE_REJECTED,
            message,
            workflow_id=target.run["workflow_id"],
            run_id=target.run["run_id"],
            target_scope=target.scope,
            workflow_type=target.run["workflow_type"],
            update_name=request.update_name,
            outcome="rejected_unknown_update" if unknown else "rejected",
            command_status="rejected",
            update_status=UpdateStatus.REJECTED,
            rejection_reason=worker_reason,
            validation_errors={},
        )

    async def _closed(self, namespace: str, update_id: str, timeout: int | None) -> UpdateRow | None:
        async def probe() -> UpdateRow | None:
            async with self._read() as tx:
                row = cast(UpdateRow | None, await tx.one(rows.BY_ID, {"b_update_id": update_id}))
            return row if row is not None and row["status"] != UpdateStatus.ACCEPTED else None

        return await long_poll(
            self.waiters,
            (applying.result_key(namespace, update_id),),
            probe,
            timeout=float(timeout) if timeout is not None else self.settings.update_wait_timeout_seconds,
            reprobe_interval=self.reprobe_interval,
        )


def _body(target: Target, update: UpdateRow, request: UpdateRequest, timed_out: bool) -> UpdateResultBody:
    status = update["status"]
    failure = update["failure"] or {}
    envelope = None
    result = None
    if status == UpdateStatus.COMPLETED and update["result_blob"] is not None:
        envelope = wire_envelope(str(update["result_codec"]), update["result_blob"])
        reference = reference_of(update["result_blob"])
        # Kept in external storage: the caller resolves the reference (``result_envelope``).
        result = (
            reference.envelope() if reference else codec.decode(update["result_blob"], update["result_codec"])
        )
    body = cast(
        UpdateResultBody,
        command_result(
            target,
            outcome=cast(str, _OUTCOMES.get(UpdateStatus(status))),
            command_id=update["command_id"],
            command_sequence=update["history_sequence"],
            reason=reasons.UPDATE_FAILED if status == UpdateStatus.FAILED else None,
            update_id=update["update_id"],
            update_status=status,
            update_name=update["update_name"],
            workflow_sequence=update["workflow_sequence"],
            result=result,
            result_envelope=envelope,
            failure_id=failure.get("failure_id"),
            failure_message=failure.get("message"),
            accepted_at=rfc3339(update["accepted_at"]),
            applied_at=rfc3339(update["applied_at"]),
            rejected_at=rfc3339(update["rejected_at"]),
            closed_at=rfc3339(update["closed_at"]),
            wait_for=request.wait_for,
            wait_timed_out=timed_out,
            wait_timeout_seconds=request.wait_timeout_seconds,
        ),
    )
    if status == UpdateStatus.FAILED:
        body["message"] = str(failure.get("message") or "The update failed.")
    return body
