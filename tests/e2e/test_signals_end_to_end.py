"""Signals end to end: our Client sends them, the real server records them, our real Worker
delivers them to ``@workflow.signal`` handlers (and fails the task for a name it has no handler
for)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow import Client, PassthroughWorkerInterceptor, Worker, activity, workflow
from durable_workflow.errors import SignalFailed, WorkflowNotFound
from durable_workflow_server.store import tables as t


@activity.defn(name="signals_noop")
async def noop() -> str:
    return "done"


@workflow.defn(name="collects_signals")
class CollectsSignals:
    def __init__(self) -> None:
        self.received: list[Any] = []

    @workflow.signal("add")
    def add(self, value: Any, note: str = "") -> None:
        self.received.append([value, note])

    def run(self, ctx: Any) -> Any:
        yield ctx.schedule_activity("signals_noop", [])
        return self.received


async def test_signals_reach_their_handler_in_history_order(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="collects_signals", task_queue="signals-q", workflow_id="signals-1"
    )
    await client.signal_workflow("signals-1", "add", [1, "first"])
    await client.signal_workflow("signals-1", "add", [{"two": 2}], request_id="req-2")
    await client.signal_workflow("signals-1", "add", [{"two": 2}], request_id="req-2")  # a retry
    worker = Worker(client, task_queue="signals-q", workflows=[CollectsSignals], activities=[noop])
    execution = await worker.run_until(workflow_id="signals-1", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed"
    assert await handle.result(timeout=5.0) == [[1, "first"], [{"two": 2}, ""]]

    history = await client.get_history("signals-1", handle.run_id)
    received = [e["payload"] for e in history["events"] if e["event_type"] == "SignalReceived"]
    assert [p["signal_name"] for p in received] == ["add", "add"]
    assert received[1]["request_id"] == "req-2"


async def test_signal_refusals_are_typed(client: Client) -> None:
    with pytest.raises(WorkflowNotFound):
        await client.signal_workflow("no-such-workflow", "add", [1])
    handle = await client.start_workflow(
        workflow_type="collects_signals", task_queue="signals-closed-q", workflow_id="signals-closed"
    )
    worker = Worker(client, task_queue="signals-closed-q", workflows=[CollectsSignals], activities=[noop])
    await worker.run_until(workflow_id="signals-closed", timeout=30.0, poll_interval=0.05)
    with pytest.raises(SignalFailed) as info:
        await client.signal_workflow("signals-closed", "add", [1])
    assert info.value.reason == "run_not_active"
    history = await client.get_history("signals-closed", handle.run_id)
    assert "SignalReceived" not in [e["event_type"] for e in history["events"]]


@workflow.defn(name="sleeps_and_listens")
class SleepsAndListens:
    def __init__(self) -> None:
        self.heard: list[str] = []

    @workflow.signal("hello")
    def hello(self, text: str) -> None:
        self.heard.append(text)

    def run(self, ctx: Any) -> Any:
        yield ctx.start_timer(seconds=600)
        return self.heard


async def signal_statuses(app: Any) -> list[str]:
    async with app.state.engine.store.read() as conn:
        return [r for r in (await conn.execute(sa.select(t.signals.c.status))).scalars()]


async def test_a_signal_wakes_a_run_waiting_on_a_timer(app: Any, client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="sleeps_and_listens", task_queue="signals-timer-q", workflow_id="signals-timer"
    )
    worker = Worker(client, task_queue="signals-timer-q", workflows=[SleepsAndListens])
    running = asyncio.create_task(worker.run())
    try:

        async def until(check: Any) -> None:
            while not await check():
                await asyncio.sleep(0.02)

        async def timer_scheduled() -> bool:
            page = await client.get_history("signals-timer", handle.run_id)
            return "TimerScheduled" in [e["event_type"] for e in page["events"]]

        await asyncio.wait_for(until(timer_scheduled), 20.0)
        await client.signal_workflow("signals-timer", "hello", ["there"])

        async def applied() -> bool:
            return await signal_statuses(app) == ["applied"]

        # The worker got a task for the signal (the server marks it applied on completion).
        await asyncio.wait_for(until(applied), 20.0)
    finally:
        await worker.stop()
        await running
    page = await client.get_history("signals-timer", handle.run_id)
    types = [e["event_type"] for e in page["events"]]
    assert types.count("TimerScheduled") == 1, "the re-sent timer is the same step"
    assert (await client.describe_workflow("signals-timer")).status == "waiting"


class SignalsMidTask(PassthroughWorkerInterceptor):
    """Sends a signal after the replay produced its commands, before they are sent."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.sent = False

    async def execute_workflow_task(self, context: Any, next: Any) -> Any:
        commands = await next(context)
        if not self.sent:
            self.sent = True
            await self.client.signal_workflow("signals-mid", "add", ["late"])
        return commands


async def test_a_signal_that_arrives_mid_task_is_delivered_even_when_the_task_completes_the_run(
    client: Client,
) -> None:
    @workflow.defn(name="returns_at_once")
    class ReturnsAtOnce:
        def __init__(self) -> None:
            self.received: list[Any] = []

        @workflow.signal("add")
        def add(self, value: Any) -> None:
            self.received.append(value)

        def run(self, ctx: Any) -> Any:
            return self.received
            yield  # a generator workflow

    handle = await client.start_workflow(
        workflow_type="returns_at_once", task_queue="signals-mid-q", workflow_id="signals-mid"
    )
    worker = Worker(
        client, task_queue="signals-mid-q", workflows=[ReturnsAtOnce], interceptors=[SignalsMidTask(client)]
    )
    execution = await worker.run_until(workflow_id="signals-mid", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed"
    # The first completion (an empty list) was refused: the run closed only after the signal.
    assert await handle.result(timeout=5.0) == ["late"]
    page = await client.get_history("signals-mid", handle.run_id)
    types = [e["event_type"] for e in page["events"]]
    assert types[-2:] == ["SignalReceived", "WorkflowCompleted"]


async def test_signal_routes_refuse_a_worker_token(app: Any) -> None:
    import httpx

    from tests.helpers.e2e_env import TOKEN

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        headers = {"X-Durable-Workflow-Control-Plane-Version": "2"}
        missing = await http.post("/api/workflows/x/signal/s", json={}, headers=headers)
        assert (missing.status_code, missing.json()["reason"]) == (401, "unauthorized")
        wrong = await http.post(
            "/api/workflows/x/signal/s", json={}, headers={**headers, "Authorization": f"Bearer {TOKEN}x"}
        )
        assert (wrong.status_code, wrong.json()["reason"]) == (401, "unauthorized")


class SignalsDuringHandOver(PassthroughWorkerInterceptor):
    """Sends a signal while the first run's task (the one that continues as new) is leased."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.sent = False

    async def execute_workflow_task(self, context: Any, next: Any) -> Any:
        commands = await next(context)
        if not self.sent and any(c.get("type") == "continue_as_new" for c in commands or []):
            self.sent = True
            await self.client.signal_workflow("signals-handover", "add", ["during the hand-over"])
        return commands


async def test_a_signal_sent_during_a_continue_as_new_reaches_the_new_run(client: Client) -> None:
    @workflow.defn(name="hands_over")
    class HandsOver:
        def __init__(self) -> None:
            self.received: list[Any] = []

        @workflow.signal("add")
        def add(self, value: Any) -> None:
            self.received.append(value)

        def run(self, ctx: Any, generation: int) -> Any:
            if generation == 0:
                return ctx.continue_as_new(1)
            yield ctx.wait_condition(lambda: bool(self.received), key="got-one")
            return {"generation": generation, "received": self.received}

    first = await client.start_workflow(
        workflow_type="hands_over", task_queue="signals-handover-q", workflow_id="signals-handover", input=[0]
    )
    worker = Worker(
        client,
        task_queue="signals-handover-q",
        workflows=[HandsOver],
        interceptors=[SignalsDuringHandOver(client)],
    )
    execution = await worker.run_until(workflow_id="signals-handover", timeout=30.0, poll_interval=0.05)
    assert execution.status == "completed"
    assert await first.result(timeout=5.0) == {"generation": 1, "received": ["during the hand-over"]}
    runs = await client.list_workflow_runs("signals-handover")
    assert len(runs.runs) == 2
    new_run = runs.runs[-1].run_id
    page = await client.get_history("signals-handover", new_run, page_size=1000)
    carried = [e["payload"] for e in page["events"] if e["event_type"] == "SignalReceived"]
    assert [p["carried_from_run_id"] for p in carried] == [first.run_id]


async def test_a_bad_signal_name_is_an_invalid_argument(client: Client) -> None:
    from durable_workflow.errors import InvalidArgument

    await client.start_workflow(
        workflow_type="collects_signals", task_queue="signals-bad-q", workflow_id="signals-bad"
    )
    with pytest.raises(InvalidArgument) as info:
        await client.signal_workflow("signals-bad", "n" * 257, [1])
    assert info.value.reason == "validation_failed"
    assert "signal_name" in (info.value.errors or {})
