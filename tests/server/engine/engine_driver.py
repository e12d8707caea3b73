"""A small driver that plays the worker's side against the engine with hand-written commands."""

from __future__ import annotations

import asyncio
from typing import Any

from durable_workflow.protocol import capabilities, codec
from durable_workflow_server.engine.api import RegisterWorkerRequest, StartWorkflowRequest
from durable_workflow_server.engine.service import Engine

NS = "default"
# Bounds for wake-up tests: the poll itself waits POLL_LONGER than a wake-up may take (WAKE_WITHIN),
# so a poll answered inside the bound was answered by the wake-up, not by its final probe.
WAKE_WITHIN, POLL_LONGER = 10.0, 60.0


async def parked(engine: Engine, key: tuple[str, ...]) -> None:
    """Return once a long poll is waiting on ``key`` (it has registered before its probe)."""

    async def registered() -> None:
        while not engine.waiters.watching(key):
            await asyncio.sleep(0)

    await asyncio.wait_for(registered(), WAKE_WITHIN)


class Driver:
    """Calls the engine the way http/ would, with test-friendly defaults."""

    def __init__(self, engine: Engine, queue: str = "q1", worker_id: str = "w1") -> None:
        self.engine = engine
        self.queue = queue
        self.worker_id = worker_id

    async def start(
        self,
        workflow_id: str | None = "wf-1",
        workflow_type: str = "greeter",
        args: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        request = StartWorkflowRequest(
            workflow_type=workflow_type,
            input=codec.envelope(args if args is not None else ["Ada"]),
            workflow_id=workflow_id,
            task_queue=kwargs.pop("task_queue", self.queue),
            **kwargs,
        )
        return await self.engine.start_workflow(NS, request)

    async def register(
        self, worker_id: str | None = None, queue: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        request = RegisterWorkerRequest(
            task_queue=queue or self.queue, runtime="python", worker_id=worker_id or self.worker_id, **kwargs
        )
        return await self.engine.register_worker(NS, request)

    async def register_query_worker(
        self, worker_id: str | None = None, *, validation: bool = False, workflow_type: str = "greeter"
    ) -> dict[str, Any]:
        """Register a worker that answers query tasks (and update validations) for one type."""
        promised = [capabilities.WORKER_QUERY_TASKS]
        if validation:
            promised.append(capabilities.WORKER_UPDATE_VALIDATION)
        return await self.register(worker_id, supported_workflow_types=[workflow_type], capabilities=promised)

    async def poll_wf(
        self, worker_id: str | None = None, timeout: float = 0.3, **kwargs: Any
    ) -> dict[str, Any] | None:
        return await self.engine.poll_workflow_task(
            NS,
            worker_id=worker_id or self.worker_id,
            task_queue=kwargs.pop("task_queue", self.queue),
            build_id=None,
            poll_request_id=kwargs.pop("poll_request_id", None),
            history_page_size=kwargs.pop("history_page_size", None),
            timeout=timeout,
        )

    async def complete_wf(
        self,
        task: dict[str, Any],
        commands: list[dict[str, Any]],
        *,
        lease_owner: str | None = None,
        attempt: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Complete ``task`` with ``commands`` as its holder (``extra``: e.g. ``eager_activity_slots``)."""
        return await self.engine.complete_workflow_task(
            NS,
            task["task_id"],
            lease_owner=task["lease_owner"] if lease_owner is None else lease_owner,
            workflow_task_attempt=task["workflow_task_attempt"] if attempt is None else attempt,
            commands=commands,
            **extra,
        )

    async def poll_act(self, worker_id: str | None = None, timeout: float = 0.3) -> dict[str, Any] | None:
        return await self.engine.poll_activity_task(
            NS, worker_id=worker_id or self.worker_id, task_queue=self.queue, build_id=None, timeout=timeout
        )

    async def complete_act(self, task: dict[str, Any], value: Any, **extra: Any) -> dict[str, Any]:
        """Complete activity ``task`` with ``value`` (``extra``: e.g. ``eager_workflow_task``)."""
        return await self.engine.complete_activity_task(
            NS,
            task["task_id"],
            activity_attempt_id=task["activity_attempt_id"],
            lease_owner=task["lease_owner"],
            result=codec.envelope(value),
            **extra,
        )

    async def fail_act(self, task: dict[str, Any], message: str = "boom", **failure: Any) -> dict[str, Any]:
        return await self.engine.fail_activity_task(
            NS,
            task["task_id"],
            activity_attempt_id=task["activity_attempt_id"],
            lease_owner=task["lease_owner"],
            failure={"message": message, **failure},
        )

    async def history(self, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token = None
        while True:
            page = await self.engine.history_page(
                NS, workflow_id, run_id, page_size=1000, next_page_token=token, wait_new_event=False
            )
            events += page["events"]
            token = page["next_page_token"]
            if token is None:
                return events

    async def types(self, workflow_id: str, run_id: str) -> list[str]:
        return [e["event_type"] for e in await self.history(workflow_id, run_id)]


def activity(activity_type: str = "greet", args: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "schedule_activity",
        "activity_type": activity_type,
        "arguments": codec.envelope(args if args is not None else ["Ada"]),
        **extra,
    }


def timer(delay: int) -> dict[str, Any]:
    return {"type": "start_timer", "delay_seconds": delay}


def complete(value: Any) -> dict[str, Any]:
    return {"type": "complete_workflow", "result": codec.envelope(value)}
