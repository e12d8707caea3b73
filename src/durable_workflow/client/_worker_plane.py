"""Low-level worker-plane calls (``/api/worker/*``). Applications normally use ``Worker``.

Every call sends ``X-Durable-Workflow-Protocol-Version`` and the worker token. Error answers
map through the same table as the control plane: a fenced completion (409 ``lease_expired``,
``lease_owner_mismatch``, ...) surfaces as ``ServerError`` with ``.reason`` set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from ..protocol import routes
from ..protocol.text import replace_surrogates_or_none
from ..protocol.wire import (
    ActivityHeartbeatResponse,
    ActivityTask,
    CommandBody,
    HistoryPage,
    QueryTask,
    RegisterWorkerResponse,
    TaskOutcomeResponse,
    WorkerHeartbeatResponse,
    WorkflowTask,
    WorkflowTaskHeartbeatResponse,
)
from ._worker_calls import (
    WorkerCallsMixin,
    dict_or_none,
    failure_text,
    list_or_none,
    sdk_version_string,
    without_none,
)


class WorkerPlaneMixin(WorkerCallsMixin):
    """Worker-plane methods of :class:`durable_workflow.Client`."""

    # ------------------------------------------------------------------ registration

    async def register_worker(
        self,
        *,
        worker_id: str,
        task_queue: str,
        runtime: str = "python",
        sdk_version: str | None = None,
        build_id: str | None = None,
        supported_workflow_types: Sequence[str] | None = None,
        supported_activity_types: Sequence[str] | None = None,
        workflow_definition_fingerprints: Mapping[str, str] | None = None,
        max_concurrent_workflow_tasks: int | None = None,
        max_concurrent_activity_tasks: int | None = None,
        capabilities: Sequence[str] | None = None,
        task_slots: Mapping[str, Any] | None = None,
        process_metrics: Mapping[str, Any] | None = None,
    ) -> RegisterWorkerResponse:
        """Register (or re-register) a worker: ``POST /worker/register``.

        ``sdk_version`` defaults to ``durable-workflow-python/<version>``. Optional fields are
        sent only when given.

        Raises:
            ServerError: e.g. 409 ``workflow_definition_changed`` for a changed fingerprint.
        """
        body = without_none(
            {
                "worker_id": worker_id,
                "task_queue": task_queue,
                "runtime": runtime,
                "sdk_version": sdk_version or sdk_version_string(),
                "build_id": build_id or None,
                "supported_workflow_types": list_or_none(supported_workflow_types),
                "supported_activity_types": list_or_none(supported_activity_types),
                "workflow_definition_fingerprints": dict(workflow_definition_fingerprints)
                if workflow_definition_fingerprints is not None
                else None,
                "max_concurrent_workflow_tasks": max_concurrent_workflow_tasks,
                "max_concurrent_activity_tasks": max_concurrent_activity_tasks,
                "capabilities": list_or_none(capabilities),
                "task_slots": dict_or_none(task_slots),
                "process_metrics": dict_or_none(process_metrics),
            }
        )
        answer = await self._worker_call(routes.WORKER_REGISTER, body, operation="worker_register")
        return cast("RegisterWorkerResponse", answer)

    async def heartbeat_worker(
        self,
        *,
        worker_id: str,
        task_slots: Mapping[str, Any] | None = None,
        process_metrics: Mapping[str, Any] | None = None,
        stopping: bool = False,
    ) -> WorkerHeartbeatResponse:
        """Report worker liveness: ``POST /worker/heartbeat``.

        Args:
            stopping: The worker's stop notice (sent once, after its drain): the server
                releases every lease the worker still holds at once.

        Raises:
            ServerError: 404 ``worker_not_registered`` when the server forgot the worker.
        """
        body = without_none(
            {
                "worker_id": worker_id,
                "task_slots": dict_or_none(task_slots),
                "process_metrics": dict_or_none(process_metrics),
                "stopping": True if stopping else None,
            }
        )
        answer = await self._worker_call(routes.WORKER_HEARTBEAT, body, operation="worker_heartbeat")
        return cast("WorkerHeartbeatResponse", answer)

    # ------------------------------------------------------------------ workflow tasks

    async def poll_workflow_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None = None,
        poll_request_id: str | None = None,
        history_page_size: int | None = None,
        timeout: float | None = None,
        accept_history_encoding: str | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
        hold_seconds: float | None = None,
    ) -> WorkflowTask | None:
        """Long-poll for a workflow task; returns the ``task`` object or ``None`` when none came.

        Args:
            worker_id: Registered worker id (becomes the lease owner).
            task_queue: The queue the worker registered on.
            build_id: Worker build id, when versioned.
            poll_request_id: Idempotency key of this logical poll (transport retries reuse it).
            history_page_size: Events in the first history page.
            timeout: HTTP read timeout; default max(35, advertised hold time + 5) seconds.
            accept_history_encoding: A compressed history encoding the caller can read
                (e.g. ``gzip``); the server may still answer plain events.
            held_task_ids: The workflow tasks this worker runs now (only for a worker that
                polls one at a time): the server hands back every other workflow task leased
                to ``worker_id``. ``None`` (default) sends nothing and hands nothing back.
            hand_back_grace_seconds: With ``held_task_ids``, leases granted or renewed less than
                this long ago are kept too (a worker taking tasks eagerly; see ``worker/_eager.py``).
            hold_seconds: How long the server may hold the poll while no task is ready (sent as
                ``timeout_seconds``, clamped by the server to [0, 60]; ``0`` answers at once).
                ``None`` (default) leaves it to the server; a server that does not read the
                field uses its configured hold.
        """
        task = await self._poll(
            routes.WORKFLOW_TASK_POLL,
            "workflow_task_poll",
            timeout,
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id or None,
            poll_request_id=poll_request_id,
            history_page_size=history_page_size,
            accept_history_encoding=accept_history_encoding,
            held_task_ids=list(held_task_ids) if held_task_ids is not None else None,
            hand_back_grace_seconds=hand_back_grace_seconds,
            timeout_seconds=hold_seconds,
        )
        return cast("WorkflowTask | None", task)

    async def workflow_task_history(
        self, *, task_id: str, next_history_page_token: str, lease_owner: str, workflow_task_attempt: int
    ) -> HistoryPage:
        """Fetch the next history page of a leased workflow task.

        Returns the response with ``history_events``, ``total_history_events`` and
        ``next_history_page_token``.
        """
        body = {
            "next_history_page_token": next_history_page_token,
            "lease_owner": lease_owner,
            "workflow_task_attempt": workflow_task_attempt,
        }
        page = await self._task_call(routes.WORKFLOW_TASK_HISTORY, task_id, body, "workflow_task_history")
        return cast("HistoryPage", page)

    async def heartbeat_workflow_task(
        self, *, task_id: str, lease_owner: str, workflow_task_attempt: int
    ) -> WorkflowTaskHeartbeatResponse:
        """Extend the lease of a workflow task that takes long to process."""
        body = {"lease_owner": lease_owner, "workflow_task_attempt": workflow_task_attempt}
        route = routes.WORKFLOW_TASK_HEARTBEAT
        answer = await self._task_call(route, task_id, body, "workflow_task_heartbeat")
        return cast("WorkflowTaskHeartbeatResponse", answer)

    async def complete_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: Sequence[CommandBody],
        eager_activity_slots: int | None = None,
        sticky: bool = False,
    ) -> TaskOutcomeResponse:
        """Submit the commands produced for a workflow task (already in wire form).

        ``eager_activity_slots`` (servers advertising ``eager_activity_dispatch``): free activity
        slots; the answer's ``eager_activity_tasks`` are activities it scheduled, leased to
        ``lease_owner`` (at most that many). ``None`` (default) sends nothing.
        ``sticky``: this worker keeps the run's replay, so the server hands it the run's next
        workflow task first, with the new events only (send it only when the server advertises
        ``sticky_workflow_tasks``).

        Raises:
            ServerError: 409 with ``reason`` such as ``lease_expired`` or ``invalid_commands``;
                422 ``validation_failed`` / ``structural_limit_exceeded`` as ``InvalidArgument``.
        """
        body = {
            "lease_owner": lease_owner,
            "workflow_task_attempt": workflow_task_attempt,
            "commands": [await self._externalized(c) for c in commands],
            **without_none({"eager_activity_slots": eager_activity_slots}),
        }
        if sticky:
            body["sticky"] = True
        route = routes.WORKFLOW_TASK_COMPLETE
        return await self._outcome_call(route, task_id, body, "workflow_task_complete")

    async def fail_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        message: str,
        failure_type: str | None = None,
        stack_trace: str | None = None,
    ) -> TaskOutcomeResponse:
        """Report that a workflow task could not be processed (replay error, crash)."""
        failure = failure_text(message, failure_type, stack_trace)
        body = {
            "lease_owner": lease_owner,
            "workflow_task_attempt": workflow_task_attempt,
            "failure": failure,
        }
        return await self._outcome_call(routes.WORKFLOW_TASK_FAIL, task_id, body, "workflow_task_fail")

    # ------------------------------------------------------------------ activity tasks

    async def poll_activity_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None = None,
        poll_request_id: str | None = None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
        hold_seconds: float | None = None,
    ) -> ActivityTask | None:
        """Long-poll for an activity task; returns the ``task`` object or ``None``.

        ``held_task_ids``: the activity tasks this worker runs now (only for a worker that polls
        one at a time); the server hands back every other activity task leased to
        ``worker_id``. ``None`` (default) sends nothing and hands nothing back.
        ``hand_back_grace_seconds``, ``hold_seconds``: as for :meth:`poll_workflow_task`.
        """
        task = await self._poll(
            routes.ACTIVITY_TASK_POLL,
            "activity_task_poll",
            timeout,
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id or None,
            poll_request_id=poll_request_id,
            held_task_ids=list(held_task_ids) if held_task_ids is not None else None,
            hand_back_grace_seconds=hand_back_grace_seconds,
            timeout_seconds=hold_seconds,
        )
        return cast("ActivityTask | None", task)

    async def complete_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        codec: str = "avro",
        activity_name: str | None = None,
        eager_workflow_task: bool = False,
    ) -> TaskOutcomeResponse:
        """Report an activity attempt's result; ``result`` is encoded as an Avro envelope.

        With ``external_storage``, a result over the threshold is stored and sent as a reference.
        ``eager_workflow_task`` (servers advertising ``activity_completion_workflow_task``): the
        answer's ``eager_workflow_task`` is the run's next workflow task, leased to ``lease_owner``.

        Raises:
            PayloadError: ``codec`` is not ``"avro"`` or the result is not JSON-encodable.
            PayloadTooLarge: The encoded result exceeds the payload limit.
        """
        self._require_avro(codec)
        what = f"result of activity {activity_name or task_id}"
        body = {
            "activity_attempt_id": activity_attempt_id,
            "lease_owner": lease_owner,
            "result": await self._payload(result, what=what),
            **({"eager_workflow_task": True} if eager_workflow_task else {}),
        }
        return await self._outcome_call(routes.ACTIVITY_TASK_COMPLETE, task_id, body, "activity_complete")

    async def fail_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        message: str,
        failure_type: str | None = None,
        stack_trace: str | None = None,
        non_retryable: bool = False,
        details: Any = None,
        kind: str | None = None,
        timeout_type: str | None = None,
        cancelled: bool | None = None,
        retryable: bool | None = None,
        malformed_output: bool | None = None,
    ) -> TaskOutcomeResponse:
        """Report a failed activity attempt.

        Args:
            task_id: Activity task id.
            activity_attempt_id: The attempt being failed (fencing id).
            lease_owner: The worker holding the lease.
            message: Failure message.
            failure_type: Exception type name.
            stack_trace: Formatted traceback.
            non_retryable: Fail the activity for good, whatever its retry policy.
            details: Extra diagnostic value, sent as an Avro envelope.
            kind: ``application``, ``timeout``, ``cancellation``, ``malformed_output``, ...
            timeout_type: For timeouts: ``start_to_close``, ``heartbeat``, ...
            cancelled: ``True`` for a cancellation outcome.
            retryable: ``True`` asks for a retry whatever the failure's kind would imply.
            malformed_output: ``True`` when the activity produced output it cannot encode.
        """
        failure: dict[str, Any] = failure_text(message, failure_type, stack_trace)
        failure.update(
            without_none(
                {
                    "kind": kind,
                    "timeout_type": timeout_type,
                    "cancelled": cancelled,
                    "retryable": retryable,
                    "malformed_output": malformed_output,
                }
            )
        )
        failure["non_retryable"] = bool(non_retryable)
        if details is not None:
            failure["details"] = self._envelope(details, what=f"failure details of activity task {task_id}")
        body = {"activity_attempt_id": activity_attempt_id, "lease_owner": lease_owner, "failure": failure}
        return await self._outcome_call(routes.ACTIVITY_TASK_FAIL, task_id, body, "activity_fail")

    async def heartbeat_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        details: Mapping[str, Any] | None = None,
        message: str | None = None,
        current: float | None = None,
        total: float | None = None,
        unit: str | None = None,
    ) -> ActivityHeartbeatResponse:
        """Record activity progress and renew its lease.

        The answer's ``cancel_requested`` tells the activity to stop (the workflow was cancelled).
        """
        body = without_none(
            {
                "activity_attempt_id": activity_attempt_id,
                "lease_owner": lease_owner,
                "details": dict(details) if details is not None else None,
                "message": replace_surrogates_or_none(message),
                "current": current,
                "total": total,
                "unit": unit,
            }
        )
        answer = await self._task_call(routes.ACTIVITY_TASK_HEARTBEAT, task_id, body, "activity_heartbeat")
        return cast("ActivityHeartbeatResponse", answer)

    # ------------------------------------------------------------------ query tasks

    async def poll_query_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        poll_request_id: str | None = None,
        timeout: float | None = None,
    ) -> QueryTask | None:
        """Long-poll for a query task; returns the ``task`` object or ``None``."""
        task = await self._poll(
            routes.QUERY_TASK_POLL,
            "query_task_poll",
            timeout,
            worker_id=worker_id,
            task_queue=task_queue,
            poll_request_id=poll_request_id,
        )
        return cast("QueryTask | None", task)

    async def complete_query_task(
        self,
        *,
        query_task_id: str,
        lease_owner: str,
        query_task_attempt: int,
        result: Any,
        codec: str = "avro",
        workflow_id: str | None = None,
        run_id: str | None = None,
        query_name: str | None = None,
    ) -> TaskOutcomeResponse:
        """Answer a query task with ``result`` (sent plain and as an Avro ``result_envelope``;
        plain only with ``plain_json_payloads``).

        ``workflow_id``, ``run_id`` and ``query_name`` only label payload-size diagnostics.
        """
        self._require_avro(codec)
        label = f"result of query {query_name or query_task_id}" + (
            f" on {workflow_id}" if workflow_id else ""
        )
        body: dict[str, Any] = {
            "lease_owner": lease_owner,
            "query_task_attempt": query_task_attempt,
            "result": result,
        }
        if not self.plain_json_payloads:
            body["result_envelope"] = self._envelope(result, what=label)
        return await self._outcome_call(
            routes.QUERY_TASK_COMPLETE, query_task_id, body, "query_task_complete", key="query_task_id"
        )

    async def fail_query_task(
        self,
        *,
        query_task_id: str,
        lease_owner: str,
        query_task_attempt: int,
        message: str,
        reason: str | None = None,
        failure_type: str | None = None,
        stack_trace: str | None = None,
    ) -> TaskOutcomeResponse:
        """Fail a query task; ``reason`` (e.g. ``rejected_unknown_query``) reaches the caller."""
        failure = {**failure_text(message, failure_type, stack_trace), **without_none({"reason": reason})}
        body = {"lease_owner": lease_owner, "query_task_attempt": query_task_attempt, "failure": failure}
        return await self._outcome_call(
            routes.QUERY_TASK_FAIL, query_task_id, body, "query_task_fail", key="query_task_id"
        )
