"""Control-plane workflow methods: start, describe, debug, list, history, results.

Signals, queries and updates are in ``_messages.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from .._wire import event_payload, event_type
from ..errors import ServerError, WorkflowCancelled, WorkflowFailed, WorkflowTerminated
from ..protocol import routes
from ..protocol.history import EventType, HistoryEvent
from ..protocol.wire import HistoryExport, RunHistoryPage, StartWorkflowResponse
from ._base import Arguments
from ._debug_results import WorkflowDebugView
from ._handle import WorkflowHandle
from ._list_filters import moment, visibility_query
from ._local_workers import local_workers
from ._result_wait import TERMINAL_STATUSES as TERMINAL_STATUSES  # the worker's import
from ._result_wait import ResultWaitMixin, closed_for_good
from ._results import WorkflowExecution, WorkflowList, WorkflowRun, WorkflowRunList

if TYPE_CHECKING:
    from ._client import Client

_TERMINAL_EVENTS = frozenset(
    {
        EventType.WORKFLOW_COMPLETED,
        EventType.WORKFLOW_FAILED,
        EventType.WORKFLOW_CANCELLED,
        EventType.WORKFLOW_TERMINATED,
        EventType.WORKFLOW_TIMED_OUT,
    }
)


class WorkflowsMixin(ResultWaitMixin):
    """Workflow operations of :class:`durable_workflow.Client`."""

    # ------------------------------------------------------------------ start / handles

    async def start_workflow(
        self,
        *,
        workflow_type: str,
        task_queue: str,
        workflow_id: str | None = None,
        input: Arguments | None = None,
        duplicate_policy: str | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        execution_timeout_seconds: int | None = None,
        run_timeout_seconds: int | None = None,
        priority: int | None = None,
        fairness_key: str | None = None,
        fairness_weight: int | None = None,
    ) -> WorkflowHandle:
        """Start a workflow and return its handle.

        Args:
            workflow_type: Registered workflow type name.
            task_queue: Queue the workflow's tasks go to.
            workflow_id: Your id for the workflow; a random ``wf-<uuid>`` when omitted.
            input: Positional arguments, sent as one Avro envelope.
            duplicate_policy: ``"fail"`` (server default) or ``"use-existing"``.
            memo: Free-form metadata stored with the workflow.
            search_attributes: Indexed attributes for list queries.
            business_key: Optional business identifier.
            execution_timeout_seconds: Bound on the whole workflow (all runs).
            run_timeout_seconds: Bound on each run.
            priority: Dispatch priority (0..9) for servers that schedule by it.
            fairness_key: Fairness bucket for servers that share a queue fairly by it.
            fairness_weight: Weight of the fairness bucket (1..1000).

        Returns:
            The handle; its ``raw`` is the server's whole start answer (``outcome`` ...).

        Raises:
            WorkflowAlreadyStarted: The id is taken by an open run and the policy refused a new one.
            InvalidArgument: The server rejected a field.
            PayloadTooLarge: The encoded input exceeds the client's payload limit.
        """
        wid = workflow_id or f"wf-{uuid.uuid4()}"
        body: dict[str, Any] = {
            "workflow_id": wid,
            "workflow_type": workflow_type,
            "task_queue": task_queue,
            "input": await self._payload(self._arguments(input), what=f"input of workflow {wid}"),
        }
        optional = {
            "duplicate_policy": duplicate_policy,
            "memo": dict(memo) if memo is not None else None,
            "search_attributes": dict(search_attributes) if search_attributes is not None else None,
            "business_key": business_key,
            "execution_timeout_seconds": execution_timeout_seconds,
            "run_timeout_seconds": run_timeout_seconds,
            "priority": priority,
            "fairness_key": fairness_key,
            "fairness_weight": fairness_weight,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        # A worker of this queue running in this process with a free slot takes the first task
        # straight from the answer (see _local_workers.py); otherwise it is polled as usual.
        eager = await local_workers(self).reserve(task_queue, workflow_type)
        if eager is not None:
            body["eager_worker_id"] = eager[0]
        try:
            answer = await self._request_object("POST", routes.WORKFLOWS, body=body, operation="start")
            first_task = answer.pop("eager_workflow_task", None)
            if eager is not None and isinstance(first_task, Mapping):
                eager[1].take([first_task])
        finally:
            if eager is not None:
                eager[1].close()
        data = cast("StartWorkflowResponse", answer)
        run_id = data.get("run_id")
        return WorkflowHandle(
            cast("Client", self),
            str(data.get("workflow_id") or wid),
            run_id=run_id if isinstance(run_id, str) else None,
            workflow_type=str(data.get("workflow_type") or workflow_type),
            raw=answer,
        )

    def get_workflow_handle(
        self, workflow_id: str, run_id: str | None = None, workflow_type: str = ""
    ) -> WorkflowHandle:
        """Return a handle for a workflow you already know; no request is made."""
        return WorkflowHandle(cast("Client", self), workflow_id, run_id=run_id, workflow_type=workflow_type)

    # ------------------------------------------------------------------ reads

    async def describe_workflow(self, workflow_id: str) -> WorkflowExecution:
        """Describe the workflow's current run.

        Raises:
            WorkflowNotFound: No workflow with this id in the namespace.
        """
        data = await self._request_object(
            "GET", routes.WORKFLOW, path_params={"workflow_id": workflow_id}, operation="describe"
        )
        return WorkflowExecution.from_dict(data)

    async def list_workflows(
        self,
        workflow_type: str | None = None,
        status: str | None = None,
        query: str | None = None,
        page_size: int | None = None,
        next_page_token: str | None = None,
        *,
        task_queue: str | None = None,
        started_after: datetime | str | None = None,
        started_before: datetime | str | None = None,
        closed_after: datetime | str | None = None,
        closed_before: datetime | str | None = None,
        search_attributes: Mapping[str, Any] | None = None,
    ) -> WorkflowList:
        """List workflows (one row per run), newest first, one page at a time.

        Every filter given must hold. Time windows are half-open (``after <= time < before``);
        a naive ``datetime`` is UTC.

        Args:
            workflow_type: Only this type.
            status: Status bucket: ``running``, ``completed`` or ``failed``.
            query: A visibility query over system and registered custom search attributes, e.g.
                ``"WorkflowType = 'orders' AND Priority >= 3 AND Tags IN ('rush')"`` (see
                docs/protocol.md), or, with none of ``= < > ! ( ) ' "``, a substring of the
                workflow id or business key.
            page_size: Rows per page (server default 50, at most 200).
            next_page_token: Token from the previous page.
            task_queue: Only runs on this task queue.
            started_after, started_before: Window on the run's start time.
            closed_after, closed_before: Window on the run's close time (open runs never match).
            search_attributes: ``{name: value}`` equality filters ANDed with ``query``; a list
                value matches any of its items (membership for a ``keyword_list``).

        Raises:
            InvalidArgument: A bad filter, e.g. a query that does not parse or names an
                unregistered attribute.
        """
        params = {
            "workflow_type": workflow_type,
            "status": status,
            "query": visibility_query(query, search_attributes),
            "page_size": page_size,
            "next_page_token": next_page_token,
            "task_queue": task_queue,
            "started_after": moment(started_after),
            "started_before": moment(started_before),
            "closed_after": moment(closed_after),
            "closed_before": moment(closed_before),
        }
        data = await self._request_object("GET", routes.WORKFLOWS, params=params, operation="list")
        return WorkflowList.from_dict(data)

    async def list_workflow_runs(self, workflow_id: str) -> WorkflowRunList:
        """List every run of ``workflow_id``, oldest first.

        Raises:
            WorkflowNotFound: No workflow with this id.
        """
        data = await self._request_object(
            "GET", routes.WORKFLOW_RUNS, path_params={"workflow_id": workflow_id}, operation="list_runs"
        )
        if not data.get("workflow_id"):
            data["workflow_id"] = workflow_id
        return WorkflowRunList.from_dict(data)

    async def describe_workflow_run(self, workflow_id: str, run_id: str) -> WorkflowRun:
        """Describe one specific run.

        Raises:
            WorkflowNotFound: Unknown workflow or run.
        """
        data = await self._request_object(
            "GET",
            routes.WORKFLOW_RUN,
            path_params={"workflow_id": workflow_id, "run_id": run_id},
            operation="describe_run",
        )
        return WorkflowRun.from_dict(data, workflow_id=workflow_id)

    async def debug_workflow(
        self, workflow_id: str, *, run_id: str | None = None, include_last_event_payload: bool = False
    ) -> WorkflowDebugView:
        """The server's debug view of the current run (or of ``run_id``).

        One snapshot of the run: its ``diagnostic_status`` and the findings behind it, its
        pending workflow tasks and activities, its task queue's backlog and pollers, recent
        failures and its last and next events (the whole body in ``raw``).
        ``include_last_event_payload=True`` adds the latest event's payload.

        Raises:
            WorkflowNotFound: Unknown workflow or run.
        """
        params = {"include_last_event_payload": True} if include_last_event_payload else None
        if run_id is None:
            data = await self._request_object(
                "GET",
                routes.WORKFLOW_DEBUG,
                path_params={"workflow_id": workflow_id},
                params=params,
                operation="debug_workflow",
            )
        else:
            data = await self._request_object(
                "GET",
                routes.WORKFLOW_RUN_DEBUG,
                path_params={"workflow_id": workflow_id, "run_id": run_id},
                params=params,
                operation="debug_workflow",
            )
        return WorkflowDebugView.from_dict(data)

    async def get_history(
        self,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int | None = None,
        next_page_token: str | None = None,
        wait_new_event: bool | None = None,
    ) -> RunHistoryPage:
        """Read one page of a run's history: ``{"events": [...], "next_page_token": ...}``.

        Payloads inside events are left as recorded (blobs), ready for the replayer.
        ``wait_new_event=True`` long-polls: the server holds the request until an event after
        the page is recorded (or its hold time passes); ``False`` is sent as it is.

        Raises:
            WorkflowNotFound: Unknown workflow or run.
        """
        page = await self._request_object(
            "GET",
            routes.WORKFLOW_RUN_HISTORY,
            path_params={"workflow_id": workflow_id, "run_id": run_id},
            params={
                "page_size": page_size,
                "next_page_token": next_page_token,
                "wait_new_event": wait_new_event,
            },
            operation="history",
            timeout=self.poll_timeout(None) if wait_new_event else None,
        )
        return cast("RunHistoryPage", page)

    async def export_history(self, workflow_id: str, run_id: str) -> HistoryExport:
        """Download the run's archival history bundle (``durable-workflow.v2.history-export``).

        External-storage references are kept as the server sent them: the bundle's checksum
        covers them (pass ``external_storage=`` to the replayer to read them).

        Raises:
            WorkflowNotFound: Unknown workflow or run.
        """
        bundle = await self._request_object(
            "GET",
            routes.WORKFLOW_RUN_HISTORY_EXPORT,
            path_params={"workflow_id": workflow_id, "run_id": run_id},
            operation="history_export",
            resolve_payloads=False,
        )
        return cast("HistoryExport", bundle)

    # ------------------------------------------------------------------ results

    async def get_result(
        self, handle: WorkflowHandle, poll_interval: float = 0.5, timeout: float = 30.0
    ) -> Any:
        """Wait until the workflow is closed and return its decoded output.

        Where the server offers the result wait (its start and describe answers say so), it holds
        the describe until the run closes (asked again after each of its long-poll holds, and
        after a lost connection while ``timeout`` allows); elsewhere it polls ``describe`` every
        ``poll_interval`` seconds. Either way it follows continue-as-new to the
        workflow's final run. A completed run whose description
        carries the recorded ``output_envelope`` is answered from it; otherwise (failures,
        cancellations, servers that omit the envelope) the run's history is read through *every*
        page to find the closing event.

        Raises:
            WorkflowFailed: The workflow failed (or timed out).
            WorkflowCancelled: The workflow was cancelled.
            WorkflowTerminated: The workflow was terminated.
            TimeoutError: Still open after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: WorkflowExecution | None = None
        while True:
            remaining = deadline - loop.time()
            # The last second is polled: a wait is asked in whole seconds and must end in time.
            waited = self._result_wait_hold is not None and remaining >= 1
            if waited:
                execution = await self._wait_closed(handle.workflow_id, remaining, poll_interval)
            else:
                execution = await self.describe_workflow(handle.workflow_id)
            if execution is not None:
                last = execution
                # A run closed as ``continued`` is not the end: its successor carries the result
                # (a server may still describe the old run while it hands over).
                if closed_for_good(execution):
                    break
            remaining = deadline - loop.time()
            if remaining <= 0:
                status = last.status if last is not None else None
                raise TimeoutError(f"workflow {handle.workflow_id} still {status or 'open'} after {timeout}s")
            if not waited:
                await asyncio.sleep(min(poll_interval, remaining))
        if execution.status == "completed" and execution.raw.get("output_envelope"):
            # The envelope is the value the closing event recorded: no history round trip needed.
            return execution.output
        run_id = execution.run_id or handle.run_id
        event = await self._terminal_event(handle.workflow_id, run_id) if run_id else None
        return self._outcome(handle.workflow_id, execution, event)

    async def _terminal_event(self, workflow_id: str, run_id: str) -> HistoryEvent | None:
        last: HistoryEvent | None = None
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.get_history(workflow_id, run_id, next_page_token=token)
            events = page.get("events")
            for event in events if isinstance(events, list) else []:
                if isinstance(event, dict) and event_type(event) in _TERMINAL_EVENTS:
                    last = event
            nxt = page.get("next_page_token")
            if not isinstance(nxt, str) or not nxt:
                return last
            if nxt in seen:  # a server that repeats a token would otherwise loop forever
                raise ServerError(f"history of {workflow_id}/{run_id} repeated page token {nxt!r}")
            seen.add(nxt)
            token = nxt

    def _outcome(
        self, workflow_id: str, execution: WorkflowExecution, event: Mapping[str, Any] | None
    ) -> Any:
        status = execution.status
        kind = event_type(event) if event else None
        payload = event_payload(event) if event else {}
        if kind == EventType.WORKFLOW_COMPLETED or (kind is None and status == "completed"):
            if kind is None:
                return execution.output
            codec_name = payload.get("payload_codec") or execution.payload_codec or "avro"
            return self._decode(
                payload.get("output"), str(codec_name), what=f"output of workflow {workflow_id}"
            )
        if kind == EventType.WORKFLOW_CANCELLED or (kind is None and status in ("cancelled", "canceled")):
            reason = payload.get("reason")
            raise WorkflowCancelled(
                str(payload.get("message") or "workflow cancelled"),
                reason=str(reason) if reason is not None else None,
            )
        if kind == EventType.WORKFLOW_TERMINATED or (kind is None and status == "terminated"):
            reason = payload.get("reason")
            raise WorkflowTerminated(
                str(payload.get("message") or "workflow terminated"),
                reason=str(reason) if reason is not None else None,
            )
        raw_failure = payload.get("failure")
        failure: Mapping[str, Any] = raw_failure if isinstance(raw_failure, Mapping) else {}
        message = payload.get("message") or failure.get("message")
        exc_type = (
            payload.get("exception_type")
            or payload.get("exception_class")
            or failure.get("type")
            or failure.get("exception_class")
        )
        if kind == EventType.WORKFLOW_TIMED_OUT:
            message = message or "workflow timed out"
            exc_type = exc_type or "WorkflowTimedOut"
        raise WorkflowFailed(
            str(message or "workflow failed"),
            str(exc_type) if exc_type else None,
            workflow_id=workflow_id,
            run_id=execution.run_id,
        )
