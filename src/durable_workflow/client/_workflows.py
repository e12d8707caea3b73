"""Control-plane workflow methods: start, describe, list, history, signals, queries, results."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from .._wire import event_payload, event_type
from ..errors import ServerError, WorkflowCancelled, WorkflowFailed, WorkflowTerminated
from ..protocol import routes
from ..protocol.history import EventType, HistoryEvent
from ..protocol.wire import HistoryExport, RunHistoryPage, StartWorkflowResponse
from ._handle import WorkflowHandle
from ._list_filters import moment, visibility_query
from ._results import WorkflowExecution, WorkflowList, WorkflowRun, WorkflowRunList
from ._run_commands import RunCommandsMixin

# Statuses after which a run never changes again (``canceled`` is a spelling seen in the wild).
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "canceled", "terminated"})
_TERMINAL_EVENTS = frozenset(
    {
        EventType.WORKFLOW_COMPLETED,
        EventType.WORKFLOW_FAILED,
        EventType.WORKFLOW_CANCELLED,
        EventType.WORKFLOW_TERMINATED,
        EventType.WORKFLOW_TIMED_OUT,
    }
)


def _args_list(args: Sequence[Any] | None) -> list[Any]:
    if args is None:
        return []
    if isinstance(args, (str, bytes, Mapping)):
        raise TypeError("args must be a list of positional arguments")
    return list(args)


class WorkflowsMixin(RunCommandsMixin):
    """Workflow operations of :class:`durable_workflow.Client` (run commands: the base class)."""

    # ------------------------------------------------------------------ start / handles

    async def start_workflow(
        self,
        *,
        workflow_type: str,
        task_queue: str,
        workflow_id: str | None = None,
        input: Sequence[Any] | None = None,
        duplicate_policy: str | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        execution_timeout_seconds: int | None = None,
        run_timeout_seconds: int | None = None,
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
            "input": await self._payload(_args_list(input), what=f"input of workflow {wid}"),
        }
        optional = {
            "duplicate_policy": duplicate_policy,
            "memo": dict(memo) if memo is not None else None,
            "search_attributes": dict(search_attributes) if search_attributes is not None else None,
            "business_key": business_key,
            "execution_timeout_seconds": execution_timeout_seconds,
            "run_timeout_seconds": run_timeout_seconds,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        answer = await self._request_object("POST", routes.WORKFLOWS, body=body, operation="start")
        data = cast("StartWorkflowResponse", answer)
        run_id = data.get("run_id")
        return WorkflowHandle(
            self,
            str(data.get("workflow_id") or wid),
            run_id=run_id if isinstance(run_id, str) else None,
            workflow_type=str(data.get("workflow_type") or workflow_type),
        )

    def get_workflow_handle(
        self, workflow_id: str, run_id: str | None = None, workflow_type: str = ""
    ) -> WorkflowHandle:
        """Return a handle for a workflow you already know; no request is made."""
        return WorkflowHandle(self, workflow_id, run_id=run_id, workflow_type=workflow_type)

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

    async def get_history(
        self,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int | None = None,
        next_page_token: str | None = None,
    ) -> RunHistoryPage:
        """Read one page of a run's history: ``{"events": [...], "next_page_token": ...}``.

        Payloads inside events are left as recorded (blobs), ready for the replayer.

        Raises:
            WorkflowNotFound: Unknown workflow or run.
        """
        page = await self._request_object(
            "GET",
            routes.WORKFLOW_RUN_HISTORY,
            path_params={"workflow_id": workflow_id, "run_id": run_id},
            params={"page_size": page_size, "next_page_token": next_page_token},
            operation="history",
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

    # ------------------------------------------------------------------ messages

    async def signal_workflow(
        self,
        workflow_id: str,
        signal_name: str,
        args: Sequence[Any] | None = None,
        *,
        request_id: str | None = None,
    ) -> None:
        """Send a signal. ``request_id`` lets the server record a retried signal once.

        The server records the signal in the run's history and hands it to the workflow's
        ``@workflow.signal`` handler in its next workflow task (a worker whose code has no
        handler for the name fails that task, naming the signal, rather than dropping it).

        Raises:
            SignalFailed: Unknown signal, invalid arguments or closed run.
            WorkflowNotFound: No workflow with this id.
            InvalidArgument: The name is empty, longer than 256 bytes or holds control
                characters, or ``request_id`` is longer than 255 characters.
        """
        body = await self._message_body(args, what=f"signal {signal_name!r} arguments")
        if request_id is not None:
            body["request_id"] = request_id
        await self._request(
            "POST",
            routes.WORKFLOW_SIGNAL,
            path_params={"workflow_id": workflow_id, "name": signal_name},
            body=body,
            operation="signal",
        )

    async def query_workflow(
        self, workflow_id: str, query_name: str, args: Sequence[Any] | None = None
    ) -> Any:
        """Run a query on the workflow and return its decoded result.

        Raises:
            QueryFailed: Unknown query, handler error, no worker available or timeout.
            WorkflowNotFound: No workflow with this id.
        """
        body = await self._message_body(args, what=f"query {query_name!r} arguments")
        data = await self._request_object(
            "POST",
            routes.WORKFLOW_QUERY,
            path_params={"workflow_id": workflow_id, "name": query_name},
            body=body,
            operation="query",
        )
        return self._result_of(data, what=f"result of query {query_name!r}")

    async def update_workflow(
        self,
        workflow_id: str,
        update_name: str,
        args: Sequence[Any] | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> Any:
        """Send an update and return its decoded result.

        Args:
            workflow_id: Target workflow.
            update_name: Update handler name.
            args: Positional arguments.
            wait_for: ``"accepted"`` (server default) or ``"completed"``.
            wait_timeout_seconds: How long the server waits for completion.
            request_id: Caller correlation id.

        Returns:
            The update handler's decoded result once completed (``wait_for="completed"``);
            ``None`` when only accepted so far (also when a completed-wait timed out).

        Raises:
            UpdateRejected: The workflow's validator rejected the update before it was accepted
                (nothing is recorded), the workflow has no such update, or the run is closed.
            InvalidArgument: The update failed (``update_failed``: the handler raised, or a
                validator that only runs after acceptance refused it) or its arguments were
                invalid.
            WorkflowNotFound: No workflow with this id.
        """
        body = await self._message_body(args, what=f"update {update_name!r} arguments")
        optional = {
            "wait_for": wait_for,
            "wait_timeout_seconds": wait_timeout_seconds,
            "request_id": request_id,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        # A completed-wait holds the request up to its wait (the server's default is 10 s), on
        # top of a pre-accept validation by a worker: the read timeout must outlast both.
        wait = (wait_timeout_seconds or 10) if wait_for == "completed" else 0
        data = await self._request_object(
            "POST",
            routes.WORKFLOW_UPDATE,
            path_params={"workflow_id": workflow_id, "name": update_name},
            body=body,
            operation="update",
            timeout=max(self.timeout, wait + 35.0),
        )
        return self._result_of(data, what=f"result of update {update_name!r}")

    async def _message_body(self, args: Sequence[Any] | None, *, what: str) -> dict[str, Any]:
        # Like the reference SDK: no ``input`` key at all when there are no arguments.
        values = _args_list(args)
        return {"input": await self._payload(values, what=what)} if values else {}

    def _result_of(self, data: Mapping[str, Any], *, what: str) -> Any:
        env = data.get("result_envelope")
        if env:
            return self._decode(env, None, what=what)
        return data.get("result")

    # ------------------------------------------------------------------ results

    async def get_result(
        self, handle: WorkflowHandle, poll_interval: float = 0.5, timeout: float = 30.0
    ) -> Any:
        """Wait until the workflow is closed and return its decoded output.

        Polls ``describe`` every ``poll_interval`` seconds, following continue-as-new to the
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
        while True:
            execution = await self.describe_workflow(handle.workflow_id)
            # A run closed as ``continued`` is not the end: its successor carries the result
            # (a server may still describe the old run while it hands over).
            if execution.status in TERMINAL_STATUSES and execution.closed_reason != "continued":
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"workflow {handle.workflow_id} still {execution.status or 'open'} after {timeout}s"
                )
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
