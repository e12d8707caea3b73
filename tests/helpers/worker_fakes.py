"""An in-memory stand-in for ``Client`` (the unit seam of the worker tests).

It implements ``WorkerPlaneClient`` (the worker-plane calls of the Worker) over a tiny run
model: workflow tasks, activity tasks and a history with workflow sequences, enough to drive a
workflow from start to ``complete_workflow`` the way the server would.

Tests synchronise on it through :meth:`FakeClient.until`: every call the worker makes and every
metric it records wakes the waiters, which re-check their condition, so no test sleeps in the
hope that the worker has acted.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from durable_workflow._external_payloads import PayloadResolver
from durable_workflow.client import WorkflowExecution
from durable_workflow.errors import ServerError
from durable_workflow.metrics import InMemoryMetrics
from durable_workflow.protocol import codec
from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol.wire import (
    ActivityHeartbeatResponse,
    ActivityTask,
    CommandBody,
    HistoryEvent,
    HistoryPage,
    QueryTask,
    RegisterWorkerResponse,
    TaskOutcomeResponse,
    WorkerHeartbeatResponse,
    WorkflowTask,
    WorkflowTaskHeartbeatResponse,
)

GOOD_CLUSTER_INFO: dict[str, Any] = {
    "control_plane": {
        "version": "2",
        "request_contract": {"schema": "durable-workflow.v2.control-plane-request.contract", "version": 1},
    },
    "worker_protocol": {
        "version": "1.1",
        "server_capabilities": {"long_poll_timeout": 30, "query_tasks": True},
    },
    "auth_composition_contract": {
        "schema": "durable-workflow.v2.auth-composition.contract",
        "version": 1,
        "precedence": {"connection_values": ["flag", "environment"], "profile_selection": ["flag_env"]},
        "canonical_environment": {
            "server_url": "DURABLE_WORKFLOW_SERVER_URL",
            "namespace": "DURABLE_WORKFLOW_NAMESPACE",
            "auth_token": "DURABLE_WORKFLOW_AUTH_TOKEN",
            "tls_verify": "DURABLE_WORKFLOW_TLS_VERIFY",
            "profile": "DW_ENV",
        },
        "auth_material": {
            "token": {"status": "supported", "effective_config_value": "redacted"},
            "mtls": {"status": "reserved"},
            "signed_headers": {"status": "reserved"},
        },
        "effective_config": {
            "required_fields": ["server_url", "namespace", "profile", "auth", "tls", "identity"]
        },
        "redaction": {"never_echo": ["bearer_tokens", "private_keys", "raw_authorization_headers"]},
    },
}


class SignallingMetrics(InMemoryMetrics):
    """In-memory metrics that call ``on_change`` after each recording."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def increment(self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None) -> None:
        super().increment(name, value, tags)
        self._on_change()

    def record(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        super().record(name, value, tags)
        self._on_change()


@dataclass
class Execution:
    workflow_id: str
    run_id: str
    workflow_type: str
    status: str = "pending"
    output: Any = None


@dataclass
class Run:
    execution: Execution
    input: list[Any]
    events: list[HistoryEvent] = field(default_factory=list)
    open_steps: dict[int, dict[str, Any]] = field(default_factory=dict)


class FakeClient:
    def __init__(
        self,
        *,
        cluster_info: dict[str, Any] | None = None,
        poll_wait: float = 0.02,
        history_page_size: int = 1000,
    ) -> None:
        self.cluster_info = cluster_info if cluster_info is not None else GOOD_CLUSTER_INFO
        # Tests that store payloads externally set a PayloadResolver here, as a Client has.
        self.payload_resolver: PayloadResolver | None = None
        self.poll_wait = poll_wait
        self.history_page_size = history_page_size
        self._changed = asyncio.Event()
        self.metrics = SignallingMetrics(self.notify)
        self.runs: dict[str, Run] = {}
        self.workflow_tasks: list[dict[str, Any]] = []
        self.activity_tasks: list[dict[str, Any]] = []
        self.leased_activities: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.cancel_requested = False
        self.complete_workflow_error: ServerError | None = None
        self.active_activity_leases = 0
        self.max_active_activity_leases = 0
        self._ids = itertools.count(1)
        self._wake = asyncio.Event()
        # Query tasks a test queues, and the answers the worker sent (by query task id).
        self.query_tasks: list[QueryTask] = []
        self._query_wake = asyncio.Event()

    # ------------------------------------------------------------------ test helpers

    def calls_to(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for call, kwargs in self.calls if call == name]

    def notify(self) -> None:
        """Wake the waiters of :meth:`until` (tests call it when their own state changed)."""
        self._changed.set()

    async def until(self, condition: Callable[[], object], timeout: float = 5.0) -> None:
        """Return once ``condition()`` holds, re-checking it after every call, metric or notify.

        Raises ``TimeoutError`` when it still does not hold after ``timeout`` seconds: the
        deadline only bounds a broken test, it never decides a passing one.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            # No await between the check and clear(): nothing can change in between.
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the condition the test waits for never held")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                continue

    async def until_calls(self, name: str, count: int = 1, timeout: float = 5.0) -> None:
        """Return once the worker has made ``count`` calls named ``name``."""
        await self.until(lambda: len(self.calls_to(name)) >= count, timeout)

    def _event(self, run: Run, etype: str, payload: dict[str, Any]) -> None:
        run.events.append(
            {
                "id": f"e{len(run.events) + 1}",
                "sequence": len(run.events) + 1,
                "event_type": etype,
                "payload": payload,
                "recorded_at": f"2026-01-01T00:00:{len(run.events):02d}.000000Z",
            }
        )

    def start(self, workflow_type: str, workflow_id: str, args: list[Any]) -> Run:
        run = Run(Execution(workflow_id, f"run-{workflow_id}", workflow_type), args)
        self._event(run, "StartAccepted", {"workflow_type": workflow_type})
        self._event(
            run, "WorkflowStarted", {"workflow_type": workflow_type, "timestamp": "2026-01-01T00:00:00Z"}
        )
        self.runs[workflow_id] = run
        self._add_workflow_task(run)
        return run

    def _add_workflow_task(self, run: Run) -> None:
        self.workflow_tasks.append({"workflow_id": run.execution.workflow_id})
        self._wake.set()

    def add_activity_task(
        self, activity_type: str, args: list[Any], workflow_id: str = "", sequence: int | None = None
    ) -> str:
        task_id = f"at-{next(self._ids)}"
        self.activity_tasks.append(
            {
                "task_id": task_id,
                "workflow_id": workflow_id,
                "run_id": f"run-{workflow_id}",
                "activity_execution_id": f"ae-{task_id}",
                "activity_type": activity_type,
                "attempt_number": 1,
                "payload_codec": "avro",
                "arguments": codec.envelope(args),
                "task_queue": "default",
                "sequence": sequence,
            }
        )
        self._wake.set()
        return task_id

    async def _wait_for(self, queue: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not queue:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_wait)
            except asyncio.TimeoutError:
                return None
        return queue.pop(0) if queue else None

    # ------------------------------------------------------------------ Client surface
    # Signatures mirror WorkerPlaneClient exactly: tests/sdk/test_typing.py runs mypy to check
    # that this fake is one, so it cannot drift from what the real Client offers the worker.

    def _record(self, name: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((name, kwargs))
        self.notify()
        return kwargs

    async def get_cluster_info(self) -> dict[str, Any]:
        return self.cluster_info

    async def describe_workflow(self, workflow_id: str) -> WorkflowExecution:
        execution = self.runs[workflow_id].execution
        return WorkflowExecution(
            workflow_id=execution.workflow_id,
            run_id=execution.run_id,
            workflow_type=execution.workflow_type,
            status=execution.status,
            output=execution.output,
        )

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
        self._record(
            "register_worker",
            worker_id=worker_id,
            task_queue=task_queue,
            runtime=runtime,
            sdk_version=sdk_version,
            build_id=build_id,
            supported_workflow_types=supported_workflow_types,
            supported_activity_types=supported_activity_types,
            workflow_definition_fingerprints=workflow_definition_fingerprints,
            max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
            max_concurrent_activity_tasks=max_concurrent_activity_tasks,
            capabilities=capabilities,
            task_slots=task_slots,
            process_metrics=process_metrics,
        )
        return {"worker_id": worker_id, "registered": True}

    async def heartbeat_worker(
        self,
        *,
        worker_id: str,
        task_slots: Mapping[str, Any] | None = None,
        process_metrics: Mapping[str, Any] | None = None,
        stopping: bool = False,
    ) -> WorkerHeartbeatResponse:
        if stopping:  # the stop notice, recorded apart from the liveness heartbeats
            self._record("stop_notice", worker_id=worker_id)
            return {"worker_id": worker_id, "acknowledged": True}
        self._record(
            "heartbeat_worker", worker_id=worker_id, task_slots=task_slots, process_metrics=process_metrics
        )
        return {"worker_id": worker_id, "acknowledged": True}

    async def heartbeat_workflow_task(
        self, *, task_id: str, lease_owner: str, workflow_task_attempt: int
    ) -> WorkflowTaskHeartbeatResponse:
        self._record(
            "heartbeat_workflow_task",
            task_id=task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
        )
        return {"task_id": task_id, "renewed": True, "reason": None}

    async def poll_workflow_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None = None,
        poll_request_id: str | None = None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,  # the fake advertises no eager hand-outs
    ) -> WorkflowTask | None:
        self._record(
            "poll_workflow_task",
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id,
            poll_request_id=poll_request_id,
            timeout=timeout,
            held_task_ids=list(held_task_ids) if held_task_ids is not None else None,
        )
        item = await self._wait_for(self.workflow_tasks)
        if item is None:
            return None
        run = self.runs[item["workflow_id"]]
        run.execution.status = "running"
        task_id = f"wt-{next(self._ids)}"
        first = run.events[: self.history_page_size]
        more = len(run.events) > self.history_page_size
        return {
            "task_id": task_id,
            "workflow_id": run.execution.workflow_id,
            "run_id": run.execution.run_id,
            "workflow_type": run.execution.workflow_type,
            "workflow_task_attempt": 1,
            "payload_codec": "avro",
            "arguments": {"codec": "avro", "blob": codec.encode(run.input)},
            "history_events": list(first),
            "next_history_page_token": base64.b64encode(str(len(first)).encode()).decode() if more else None,
            "lease_owner": worker_id,
            "task_queue": task_queue,
        }

    async def workflow_task_history(
        self, *, task_id: str, next_history_page_token: str, lease_owner: str, workflow_task_attempt: int
    ) -> HistoryPage:
        self._record(
            "workflow_task_history",
            task_id=task_id,
            next_history_page_token=next_history_page_token,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
        )
        after = int(base64.b64decode(next_history_page_token))
        run = next(r for r in self.runs.values() if len(r.events) > after)
        page = run.events[after : after + self.history_page_size]
        end = after + len(page)
        return {
            "history_events": page,
            "next_history_page_token": base64.b64encode(str(end).encode()).decode()
            if end < len(run.events)
            else None,
        }

    async def complete_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: Sequence[CommandBody],
        eager_activity_slots: int | None = None,  # never sent: the fake advertises no extension
    ) -> TaskOutcomeResponse:
        assert eager_activity_slots is None
        self._record(
            "complete_workflow_task",
            task_id=task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
            commands=commands,
        )
        if self.complete_workflow_error is not None:
            raise self.complete_workflow_error
        run = next(iter(self.runs.values())) if len(self.runs) == 1 else None
        assert run is not None, "the fake drives one run at a time"
        assert commands, "a completion must carry commands"
        # Re-sent commands for steps that are still open are the same steps, not new ones.
        resend = bool(run.open_steps)
        seq = len(run.events) + 1
        for typed in commands:
            # One dict view of every command kind, rather than narrowing the union per branch.
            command: Mapping[str, Any] = typed
            ctype = command["type"]
            if ctype == "schedule_activity" and not resend:
                self._event(
                    run, "ActivityScheduled", {"sequence": seq, "activity_type": command["activity_type"]}
                )
                run.open_steps[seq] = dict(command)
                self.add_activity_task(
                    command["activity_type"],
                    codec.decode_envelope(command["arguments"]),
                    run.execution.workflow_id,
                    seq,
                )
                seq += 1
            elif ctype == "start_timer" and not resend:
                self._event(
                    run, "TimerScheduled", {"sequence": seq, "delay_seconds": command["delay_seconds"]}
                )
                self._event(run, "TimerFired", {"sequence": seq})
                self._add_workflow_task(run)
                seq += 1
            elif ctype == "record_side_effect":
                self._event(
                    run,
                    "SideEffectRecorded",
                    {"sequence": seq, "result": command["result"]["blob"], "payload_codec": "avro"},
                )
                seq += 1
            elif ctype == "complete_workflow":
                run.execution.status = "completed"
                run.execution.output = codec.decode_envelope(command["result"])
                self._event(run, "WorkflowCompleted", {"output": command["result"]["blob"]})
            elif ctype == "fail_workflow":
                run.execution.status = "failed"
                run.execution.output = command["message"]
                self._event(run, "WorkflowFailed", {"message": command["message"]})
        if run.execution.status not in ("completed", "failed"):
            run.execution.status = "waiting"
        return {"task_id": task_id, "outcome": "completed", "recorded": True, "reason": None}

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
        self._record(
            "fail_workflow_task",
            task_id=task_id,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
            message=message,
            failure_type=failure_type,
            stack_trace=stack_trace,
        )
        return {"task_id": task_id, "outcome": "failed", "recorded": True, "reason": None}

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
    ) -> ActivityTask | None:
        self._record(
            "poll_activity_task",
            worker_id=worker_id,
            task_queue=task_queue,
            build_id=build_id,
            poll_request_id=poll_request_id,
            timeout=timeout,
            held_task_ids=list(held_task_ids) if held_task_ids is not None else None,
        )
        queued = await self._wait_for(self.activity_tasks)
        if queued is None:
            return None
        task = dict(queued)
        task["activity_attempt_id"] = f"att-{task['task_id']}"
        task["lease_owner"] = worker_id
        self.leased_activities[task["task_id"]] = task
        self.active_activity_leases += 1
        self.max_active_activity_leases = max(self.max_active_activity_leases, self.active_activity_leases)
        leased: ActivityTask = {
            "task_id": task["task_id"],
            "workflow_id": task["workflow_id"],
            "run_id": task["run_id"],
            "activity_execution_id": task["activity_execution_id"],
            "activity_attempt_id": task["activity_attempt_id"],
            "attempt_number": task["attempt_number"],
            "activity_type": task["activity_type"],
            "payload_codec": task["payload_codec"],
            "arguments": task["arguments"],
            "task_queue": task["task_queue"],
            "lease_owner": worker_id,
        }
        return leased

    def _resolve_activity(self, task_id: str, etype: str, payload: dict[str, Any]) -> None:
        task = self.leased_activities.pop(task_id)
        self.active_activity_leases -= 1
        run = self.runs.get(task["workflow_id"])
        if run is None or task.get("sequence") is None:
            return
        run.open_steps.pop(task["sequence"], None)
        self._event(
            run, etype, {"sequence": task["sequence"], "activity_type": task["activity_type"], **payload}
        )
        self._add_workflow_task(run)

    async def complete_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        codec: str = "avro",
        activity_name: str | None = None,
        eager_workflow_task: bool = False,  # never sent: the fake advertises no extension
    ) -> TaskOutcomeResponse:
        assert not eager_workflow_task
        self._record(
            "complete_activity_task",
            task_id=task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
            result=result,
            codec=codec,
            activity_name=activity_name,
        )
        self._resolve_activity(
            task_id, "ActivityCompleted", {"result": payload_codec.encode(result), "payload_codec": "avro"}
        )
        return {"task_id": task_id, "outcome": "completed", "recorded": True, "reason": None}

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
    ) -> TaskOutcomeResponse:
        self._record(
            "fail_activity_task",
            task_id=task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
            message=message,
            failure_type=failure_type,
            stack_trace=stack_trace,
            non_retryable=non_retryable,
            details=details,
            kind=kind,
            timeout_type=timeout_type,
            cancelled=cancelled,
        )
        self._resolve_activity(
            task_id,
            "ActivityFailed",
            {"message": message, "exception_type": failure_type, "non_retryable": non_retryable},
        )
        return {"task_id": task_id, "outcome": "failed", "recorded": True, "reason": None}

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
        self._record(
            "heartbeat_activity_task",
            task_id=task_id,
            activity_attempt_id=activity_attempt_id,
            lease_owner=lease_owner,
            details=details,
            message=message,
            current=current,
            total=total,
            unit=unit,
        )
        return {"cancel_requested": self.cancel_requested, "can_continue": not self.cancel_requested}

    def add_query_task(self, task: QueryTask) -> None:
        self.query_tasks.append(task)
        self._query_wake.set()

    async def poll_query_task(
        self,
        *,
        worker_id: str,
        task_queue: str,
        poll_request_id: str | None = None,
        timeout: float | None = None,
    ) -> QueryTask | None:
        if not self.query_tasks:
            self._query_wake.clear()
            try:
                await asyncio.wait_for(self._query_wake.wait(), timeout=self.poll_wait)
            except asyncio.TimeoutError:
                return None
        if not self.query_tasks:
            return None
        task = self.query_tasks.pop(0)
        self._record("poll_query_task", worker_id=worker_id, task_queue=task_queue)
        return task

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
        self._record(
            "complete_query_task",
            query_task_id=query_task_id,
            lease_owner=lease_owner,
            query_task_attempt=query_task_attempt,
            result=result,
        )
        return {"query_task_id": query_task_id, "outcome": "completed", "reason": None}

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
        self._record(
            "fail_query_task",
            query_task_id=query_task_id,
            lease_owner=lease_owner,
            query_task_attempt=query_task_attempt,
            message=message,
            reason=reason,
        )
        return {"query_task_id": query_task_id, "outcome": "failed", "reason": None}
