"""Helpers for HTTP-layer tests: a recording fake engine, request header sets, and the
SDK 0.4.84 cluster-info compatibility check written out as a function.

A uniquely named module (not ``conftest``) so test modules can import it unambiguously.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from durable_workflow.protocol import versions
from durable_workflow.protocol.wire import ActivityTask, Envelope, HistoryPage
from durable_workflow_server.engine.api import (
    EngineAPI,
    RegisterWorkerRequest,
    StartWorkflowRequest,
    UpdateRequest,
)
from durable_workflow_server.engine.queries.shapes import (
    QueryResultBody,
    QueryTaskBody,
    QueryTaskOutcomeResponse,
)
from durable_workflow_server.engine.runs.diagnostic_shapes import DebugWorkflowBody
from durable_workflow_server.engine.shapes import (
    ActivityHeartbeatResponse,
    ActivityOutcomeResponse,
    ControlHistoryPage,
    DescribeWorkflowBody,
    HistoryExportBundle,
    ListRunsResponse,
    ListWorkflowsResponse,
    ReadinessChecks,
    RegisterWorkerResponse,
    StartWorkflowBody,
    WorkerFleet,
    WorkerHeartbeatResponse,
    WorkflowCountsBody,
    WorkflowTaskBody,
    WorkflowTaskCompletedResponse,
    WorkflowTaskFailedResponse,
    WorkflowTaskHeartbeatResponse,
)
from durable_workflow_server.engine.signals.receiving import SignalRequest, SignalResultBody
from durable_workflow_server.engine.targets import ArchiveResultBody, CommandResultBody, RepairResultBody
from durable_workflow_server.engine.updates.shapes import UpdateResultBody

TOKEN = "test-token"
READS = frozenset({"open", "close", "database_ok", "readiness_checks", "namespace_exists", "worker_fleet"})


class FakeEngine:
    """An in-memory stand-in for ``EngineAPI`` that records every call (the unit seam).

    Each method has the ``EngineAPI`` signature and records its arguments as they were passed
    (keyword arguments by name). It answers ``results[name]`` when a test set one, else a canned
    body of the method's return type.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.namespaces = {"default"}
        self.errors: dict[str, Exception] = {}
        self.results: dict[str, Any] = {}
        self.opened = False
        self.closed = False

    # helpers -------------------------------------------------------------
    @property
    def engine_calls(self) -> list[str]:
        """Names of calls that reach the engine beyond lifecycle and namespace lookups."""
        return [name for name, _, _ in self.calls if name not in READS]

    def called(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for n, args, kwargs in self.calls if n == name]

    def _record(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        if name in self.errors:
            raise self.errors[name]
        return self.results.get(name)

    # lifecycle / system --------------------------------------------------
    async def open(self) -> None:
        self.opened = True

    async def close(self) -> None:
        self.closed = True

    def long_polls_waiting(self) -> int:
        return 0

    def stop_polling(self) -> None:
        self.polling_stopped = True

    async def database_ok(self) -> bool:
        result = self._record("database_ok")
        return True if result is None else bool(result)

    async def readiness_checks(self) -> ReadinessChecks:
        result: ReadinessChecks | None = self._record("readiness_checks")
        return result or {
            "database": {"status": "ok"},
            "migrations": {"status": "ok"},
            "default_namespace": {"status": "ok", "namespace": "default"},
        }

    async def namespace_exists(self, name: str) -> bool:
        self._record("namespace_exists", name)
        return name in self.namespaces

    async def worker_fleet(self, namespace: str) -> WorkerFleet:
        self._record("worker_fleet", namespace)
        return {
            "namespace": namespace,
            "active_workers": 0,
            "active_worker_scopes": 0,
            "queues": [],
            "build_ids": [],
            "workers": [],
        }

    # control plane -------------------------------------------------------
    async def start_workflow(self, namespace: str, request: StartWorkflowRequest) -> StartWorkflowBody:
        result: StartWorkflowBody | None = self._record("start_workflow", namespace, request)
        return result or {
            "workflow_id": request.workflow_id or "01generated",
            "run_id": "run-1",
            "workflow_type": request.workflow_type,
            "namespace": namespace,
            "status": "pending",
            "business_key": request.business_key,
            "payload_codec": "avro",
            "outcome": "started_new",
            "command_status": "accepted",
        }

    async def describe_workflow(self, namespace: str, workflow_id: str) -> DescribeWorkflowBody:
        result: DescribeWorkflowBody | None = self._record("describe_workflow", namespace, workflow_id)
        return result or {
            "workflow_id": workflow_id,
            "run_id": "run-1",
            "status": "running",
            "namespace": namespace,
        }

    async def describe_run(self, namespace: str, workflow_id: str, run_id: str) -> DescribeWorkflowBody:
        result: DescribeWorkflowBody | None = self._record("describe_run", namespace, workflow_id, run_id)
        return result or {"workflow_id": workflow_id, "run_id": run_id, "status": "running"}

    async def list_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None,
        status: str | None,
        query: str | None,
        page_size: int,
        next_page_token: str | None,
        task_queue: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        closed_after: datetime | None = None,
        closed_before: datetime | None = None,
    ) -> ListWorkflowsResponse:
        result: ListWorkflowsResponse | None = self._record(
            "list_workflows",
            namespace,
            workflow_type=workflow_type,
            status=status,
            query=query,
            page_size=page_size,
            next_page_token=next_page_token,
            task_queue=task_queue,
            started_after=started_after,
            started_before=started_before,
            closed_after=closed_after,
            closed_before=closed_before,
        )
        return result or {"workflows": [], "workflow_count": 0, "next_page_token": None}

    async def list_runs(self, namespace: str, workflow_id: str) -> ListRunsResponse:
        result: ListRunsResponse | None = self._record("list_runs", namespace, workflow_id)
        return result or {"workflow_id": workflow_id, "run_count": 0, "runs": []}

    async def history_page(
        self,
        namespace: str,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int,
        next_page_token: str | None,
        wait_new_event: bool,
    ) -> ControlHistoryPage:
        result: ControlHistoryPage | None = self._record(
            "history_page",
            namespace,
            workflow_id,
            run_id,
            page_size=page_size,
            next_page_token=next_page_token,
            wait_new_event=wait_new_event,
        )
        return result or {"workflow_id": workflow_id, "run_id": run_id, "events": [], "next_page_token": None}

    async def export_history(self, namespace: str, workflow_id: str, run_id: str) -> HistoryExportBundle:
        result: HistoryExportBundle | None = self._record("export_history", namespace, workflow_id, run_id)
        # A stand-in, not a bundle: the HTTP tests check only that it is passed through untouched.
        return result or cast(
            HistoryExportBundle, {"schema": versions.HISTORY_EXPORT_SCHEMA, "schema_version": 1}
        )

    # run commands --------------------------------------------------------
    def _command(self, name: str, namespace: str, workflow_id: str, outcome: str, **kwargs: Any) -> Any:
        result = self._record(name, namespace, workflow_id, **kwargs)
        return result or {
            "outcome": outcome,
            "workflow_id": workflow_id,
            "run_id": kwargs.get("run_id") or "run-1",
            "requested_run_id": kwargs.get("run_id"),
            "resolved_run_id": kwargs.get("run_id") or "run-1",
            "command_id": "cmd-1",
            "command_sequence": 3,
            "target_scope": "run" if kwargs.get("run_id") else "instance",
            "workflow_type": "greeter",
            "command_status": "accepted",
            "command_source": "control_plane",
            "reason": kwargs.get("reason"),
            "rejection_reason": None,
            "validation_errors": {},
        }

    async def cancel_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CommandResultBody:
        return cast(
            CommandResultBody,
            self._command(
                "cancel_workflow", namespace, workflow_id, "cancelled",
                run_id=run_id, reason=reason, request_id=request_id,
            ),
        )  # fmt: skip

    async def terminate_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CommandResultBody:
        return cast(
            CommandResultBody,
            self._command(
                "terminate_workflow", namespace, workflow_id, "terminated",
                run_id=run_id, reason=reason, request_id=request_id,
            ),
        )  # fmt: skip

    async def repair_workflow(
        self, namespace: str, workflow_id: str, *, run_id: str | None = None, request_id: str | None = None
    ) -> RepairResultBody:
        return cast(
            RepairResultBody,
            self._command(
                "repair_workflow",
                namespace,
                workflow_id,
                "repair_not_needed",
                run_id=run_id,
                request_id=request_id,
            ),
        )

    async def archive_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> ArchiveResultBody:
        return cast(
            ArchiveResultBody,
            self._command(
                "archive_workflow", namespace, workflow_id, "archived",
                run_id=run_id, reason=reason, request_id=request_id,
            ),
        )  # fmt: skip

    async def signal_workflow(self, namespace: str, request: SignalRequest) -> SignalResultBody:
        body = self._command(
            "signal_workflow", namespace, request.workflow_id, "signal_received",
            run_id=request.run_id, request_id=request.request_id, request=request,
        )  # fmt: skip
        return cast(SignalResultBody, {"signal_name": request.signal_name, "signal_id": "sig-1", **body})

    async def pause_workflow(
        self, namespace: str, workflow_id: str, *, reason: str | None = None, request_id: str | None = None
    ) -> CommandResultBody:
        return cast(
            CommandResultBody,
            self._command(
                "pause_workflow", namespace, workflow_id, "paused", reason=reason, request_id=request_id
            ),
        )

    async def resume_workflow(
        self, namespace: str, workflow_id: str, *, request_id: str | None = None
    ) -> CommandResultBody:
        return cast(
            CommandResultBody,
            self._command("resume_workflow", namespace, workflow_id, "resumed", request_id=request_id),
        )

    async def count_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None = None,
        query: str | None = None,
        task_queue: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        closed_after: datetime | None = None,
        closed_before: datetime | None = None,
        limit: int | None = None,
    ) -> WorkflowCountsBody:
        result: WorkflowCountsBody | None = self._record(
            "count_workflows",
            namespace,
            workflow_type=workflow_type,
            query=query,
            task_queue=task_queue,
            started_after=started_after,
            started_before=started_before,
            closed_after=closed_after,
            closed_before=closed_before,
            limit=limit,
        )
        return result or {
            "workflow_count": 0,
            "by_status": {"running": 0, "completed": 0, "failed": 0},
            "at_least": [],
        }

    async def debug_workflow(
        self, namespace: str, workflow_id: str, *, include_last_event_payload: bool = False
    ) -> DebugWorkflowBody:
        result = self._record(
            "debug_workflow", namespace, workflow_id, include_last_event_payload=include_last_event_payload
        )
        return self._required("debug_workflow", result)

    async def debug_run(
        self, namespace: str, workflow_id: str, run_id: str, *, include_last_event_payload: bool = False
    ) -> DebugWorkflowBody:
        result = self._record(
            "debug_run", namespace, workflow_id, run_id, include_last_event_payload=include_last_event_payload
        )
        return self._required("debug_run", result)

    @staticmethod
    def _required(name: str, result: Any) -> Any:
        # The debug view has no small canned body worth pretending: a test that routes here
        # says what it expects the engine to answer.
        if result is None:
            raise AssertionError(f"FakeEngine.{name}: set results[{name!r}] to the body the test expects")
        return result

    # worker plane --------------------------------------------------------
    async def register_worker(self, namespace: str, request: RegisterWorkerRequest) -> RegisterWorkerResponse:
        result: RegisterWorkerResponse | None = self._record("register_worker", namespace, request)
        return result or {"worker_id": request.worker_id or "W1", "registered": True}

    async def heartbeat_worker(
        self,
        namespace: str,
        worker_id: str,
        *,
        task_slots: dict[str, Any] | None = None,
        process_metrics: dict[str, Any] | None = None,
        stopping: bool = False,
    ) -> WorkerHeartbeatResponse:
        extra = {"stopping": True} if stopping else {}  # recorded only when sent
        result: WorkerHeartbeatResponse | None = self._record(
            "heartbeat_worker",
            namespace,
            worker_id,
            task_slots=task_slots,
            process_metrics=process_metrics,
            **extra,
        )
        return result or {"worker_id": worker_id, "acknowledged": True}

    async def poll_workflow_task(
        self,
        namespace: str,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None,
        poll_request_id: str | None,
        history_page_size: int | None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
    ) -> WorkflowTaskBody | None:
        held = _present(held_task_ids=held_task_ids, hand_back_grace_seconds=hand_back_grace_seconds)
        result: WorkflowTaskBody | None = self._record(
            "poll_workflow_task",
            namespace,
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id,
            poll_request_id=poll_request_id,
            history_page_size=history_page_size,
            timeout=timeout,
            **held,
        )
        return result

    async def release_workflow_task(
        self, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
    ) -> bool:
        result = self._record(
            "release_workflow_task",
            namespace,
            task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
        )
        return True if result is None else bool(result)

    async def workflow_task_history(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        next_history_page_token: str,
        history_page_size: int | None,
    ) -> HistoryPage:
        result: HistoryPage | None = self._record(
            "workflow_task_history",
            namespace,
            task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
            next_history_page_token=next_history_page_token,
            history_page_size=history_page_size,
        )
        return result or {"task_id": task_id, "history_events": [], "next_history_page_token": None}

    async def heartbeat_workflow_task(
        self, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
    ) -> WorkflowTaskHeartbeatResponse:
        result: WorkflowTaskHeartbeatResponse | None = self._record(
            "heartbeat_workflow_task",
            namespace,
            task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
        )
        return result or {
            "task_id": task_id,
            "workflow_task_attempt": workflow_task_attempt,
            "lease_owner": lease_owner,
            "renewed": True,
            "lease_expires_at": None,
            "run_status": "running",
            "task_status": "leased",
            "reason": None,
        }

    async def complete_workflow_task(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: list[dict[str, Any]],
        eager_activity_slots: int | None = None,
        sticky: bool = False,
    ) -> WorkflowTaskCompletedResponse:
        result: WorkflowTaskCompletedResponse | None = self._record(
            "complete_workflow_task",
            namespace,
            task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
            commands=commands,
            **_present(eager_activity_slots=eager_activity_slots),
            **({"sticky": True} if sticky else {}),
        )
        return result or {
            "task_id": task_id,
            "workflow_task_attempt": workflow_task_attempt,
            "outcome": "completed",
            "recorded": True,
            "run_id": "run-1",
            "run_status": "running",
            "created_task_ids": [],
            "reason": None,
        }

    async def fail_workflow_task(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        failure: dict[str, Any],
    ) -> WorkflowTaskFailedResponse:
        result: WorkflowTaskFailedResponse | None = self._record(
            "fail_workflow_task",
            namespace,
            task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
            failure=failure,
        )
        return result or {
            "task_id": task_id,
            "workflow_task_attempt": workflow_task_attempt,
            "outcome": "failed",
            "recorded": True,
            "reason": None,
            "next_task_id": None,
        }

    async def poll_activity_task(
        self,
        namespace: str,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
    ) -> ActivityTask | None:
        held = _present(held_task_ids=held_task_ids, hand_back_grace_seconds=hand_back_grace_seconds)
        result: ActivityTask | None = self._record(
            "poll_activity_task",
            namespace,
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id,
            timeout=timeout,
            **held,
        )
        return result

    async def release_activity_task(
        self, namespace: str, task_id: str, *, activity_attempt_id: str, lease_owner: str
    ) -> bool:
        result = self._record(
            "release_activity_task",
            namespace,
            task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
        )
        return True if result is None else bool(result)

    async def complete_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        eager_workflow_task: bool = False,
        history_page_size: int | None = None,
    ) -> ActivityOutcomeResponse:
        answer: ActivityOutcomeResponse | None = self._record(
            "complete_activity_task",
            namespace,
            task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
            result=result,
            **_present(eager_workflow_task=eager_workflow_task or None, history_page_size=history_page_size),
        )
        return answer or _activity_outcome(task_id, activity_attempt_id, "completed")

    async def fail_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        failure: dict[str, Any],
    ) -> ActivityOutcomeResponse:
        result: ActivityOutcomeResponse | None = self._record(
            "fail_activity_task",
            namespace,
            task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
            failure=failure,
        )
        return result or _activity_outcome(task_id, activity_attempt_id, "failed")

    async def heartbeat_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        progress: dict[str, Any],
    ) -> ActivityHeartbeatResponse:
        result: ActivityHeartbeatResponse | None = self._record(
            "heartbeat_activity_task",
            namespace,
            task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
            progress=progress,
        )
        return result or {
            "task_id": task_id,
            "activity_attempt_id": activity_attempt_id,
            "lease_owner": lease_owner,
            "cancel_requested": False,
            "can_continue": True,
            "reason": None,
            "run_closed_reason": None,
            "run_closed_at": None,
            "heartbeat_recorded": True,
            "lease_expires_at": None,
            "last_heartbeat_at": None,
        }

    # queries -------------------------------------------------------------
    async def query_workflow(
        self,
        namespace: str,
        workflow_id: str,
        query_name: str,
        *,
        run_id: str | None = None,
        arguments: Envelope | None = None,
    ) -> QueryResultBody:
        result: QueryResultBody | None = self._record(
            "query_workflow", namespace, workflow_id, query_name, run_id=run_id, arguments=arguments
        )
        return result or {
            "workflow_id": workflow_id,
            "run_id": run_id or "run-1",
            "target_scope": "run" if run_id else "instance",
            "query_name": query_name,
            "result": None,
            "result_envelope": None,
            "reason": None,
        }

    async def poll_query_task(
        self, namespace: str, *, worker_id: str, task_queue: str, timeout: float | None = None
    ) -> QueryTaskBody | None:
        result: QueryTaskBody | None = self._record(
            "poll_query_task", namespace, worker_id=worker_id, task_queue=task_queue, timeout=timeout
        )
        return result

    async def release_query_task(
        self, namespace: str, query_task_id: str, *, lease_owner: str, query_task_attempt: int
    ) -> bool:
        self._record(
            "release_query_task",
            namespace,
            query_task_id,
            lease_owner=lease_owner,
            query_task_attempt=query_task_attempt,
        )
        return True

    async def complete_query_task(
        self,
        namespace: str,
        query_task_id: str,
        *,
        lease_owner: str,
        query_task_attempt: int,
        result: Any,
        result_envelope: dict[str, Any] | None,
    ) -> QueryTaskOutcomeResponse:
        answer: QueryTaskOutcomeResponse | None = self._record(
            "complete_query_task",
            namespace,
            query_task_id,
            lease_owner=lease_owner,
            query_task_attempt=query_task_attempt,
            result=result,
            result_envelope=result_envelope,
        )
        return answer or _query_outcome(query_task_id, query_task_attempt, "completed")

    async def fail_query_task(
        self,
        namespace: str,
        query_task_id: str,
        *,
        lease_owner: str,
        query_task_attempt: int,
        failure: dict[str, Any],
    ) -> QueryTaskOutcomeResponse:
        answer: QueryTaskOutcomeResponse | None = self._record(
            "fail_query_task",
            namespace,
            query_task_id,
            lease_owner=lease_owner,
            query_task_attempt=query_task_attempt,
            failure=failure,
        )
        return answer or _query_outcome(query_task_id, query_task_attempt, "failed")

    # updates -------------------------------------------------------------
    async def update_workflow(self, namespace: str, request: UpdateRequest) -> UpdateResultBody:
        result: UpdateResultBody | None = self._record("update_workflow", namespace, request)
        canned: UpdateResultBody = {
            "workflow_id": request.workflow_id,
            "run_id": request.run_id or "run-1",
            "update_id": "update-1",
            "update_status": "accepted",
            "update_name": request.update_name,
            "outcome": None,  # type: ignore[typeddict-item]
        }
        return result or canned


def _query_outcome(query_task_id: str, attempt: int, outcome: str) -> QueryTaskOutcomeResponse:
    return {"query_task_id": query_task_id, "query_task_attempt": attempt, "outcome": outcome, "reason": None}


def _activity_outcome(task_id: str, activity_attempt_id: str, outcome: str) -> ActivityOutcomeResponse:
    return {
        "task_id": task_id,
        "activity_attempt_id": activity_attempt_id,
        "outcome": outcome,
        "recorded": True,
        "reason": None,
        "next_task_id": None,
    }


def _conforms(engine: FakeEngine) -> EngineAPI:
    """Static check (mypy on this file): the fake has every method of ``EngineAPI``, typed alike."""
    return engine


def control_headers(token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    headers = {
        versions.CONTROL_PLANE_HEADER: versions.CONTROL_PLANE_VERSION,
        "Content-Type": "application/json",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


def worker_headers(token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    headers = {
        versions.WORKER_PROTOCOL_HEADER: versions.WORKER_PROTOCOL_VERSION,
        "Content-Type": "application/json",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


# ---------------------------------------------------------------------- SDK 0.4.84 compatibility


def check_cluster_info_compatible(info: dict[str, Any]) -> None:
    """Every check SDK 0.4.84's ``Worker.run()`` makes on ``/cluster/info``."""
    control_plane = info["control_plane"]
    assert isinstance(control_plane, dict)
    assert str(control_plane["version"]) == "2"
    request_contract = control_plane["request_contract"]
    assert isinstance(request_contract, dict)
    assert request_contract["schema"] == "durable-workflow.v2.control-plane-request.contract"
    assert str(request_contract["version"]) == "1"

    worker_protocol = info["worker_protocol"]
    assert isinstance(worker_protocol, dict)
    major, _, minor = str(worker_protocol["version"]).partition(".")
    assert major == "1" and minor.isdigit() and int(minor) >= 1

    auth = info["auth_composition_contract"]
    assert auth["schema"] == "durable-workflow.v2.auth-composition.contract"
    assert auth["version"] == 1 and isinstance(auth["version"], int)
    precedence = auth["precedence"]
    for key in ("connection_values", "profile_selection"):
        assert isinstance(precedence[key], list) and all(isinstance(v, str) for v in precedence[key])
    env = auth["canonical_environment"]
    assert all(isinstance(v, str) for v in env.values())
    assert env["server_url"] == "DURABLE_WORKFLOW_SERVER_URL"
    assert env["namespace"] == "DURABLE_WORKFLOW_NAMESPACE"
    assert env["auth_token"] == "DURABLE_WORKFLOW_AUTH_TOKEN"
    assert env["tls_verify"] == "DURABLE_WORKFLOW_TLS_VERIFY"
    assert env["profile"] == "DW_ENV"
    material = auth["auth_material"]
    assert all(isinstance(v, dict) for v in material.values())
    assert material["token"]["status"] == "supported"
    assert material["token"]["effective_config_value"] == "redacted"
    assert material["mtls"]["status"] == "reserved"
    assert material["signed_headers"]["status"] == "reserved"
    required = auth["effective_config"]["required_fields"]
    assert {"server_url", "namespace", "profile", "auth", "tls", "identity"} <= set(required)
    never_echo = auth["redaction"]["never_echo"]
    assert {"bearer_tokens", "private_keys", "raw_authorization_headers"} <= set(never_echo)

    capabilities = worker_protocol["server_capabilities"]
    assert (
        isinstance(capabilities["long_poll_timeout"], (int, float)) and capabilities["long_poll_timeout"] > 0
    )
    assert isinstance(capabilities["query_tasks"], bool)


def _present(**fields: Any) -> dict[str, Any]:
    """The optional keyword arguments a call was given (``None`` ones left out), as recorded.

    The HTTP layer passes extension fields (``held_task_ids``, the eager hand-outs) as ``None``
    when a request has none: recorded calls then read as they did before those fields existed.
    """
    return {
        name: list(value) if name == "held_task_ids" else value
        for name, value in fields.items()
        if value is not None
    }
