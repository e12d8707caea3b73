"""Worker lifecycle edge cases: stop during startup, re-registration, outages, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_workflow import activity, workflow
from durable_workflow.errors import ServerError, TransportError
from durable_workflow.worker import Worker
from tests.helpers.worker_fakes import FakeClient


@activity.defn(name="greet")
async def greet(name: str) -> dict:
    return {"greeting": f"Hello, {name}!", "length": len(name)}


@workflow.defn(name="greeter")
class GreeterWorkflow:
    def run(self, ctx, *args):
        return (yield ctx.schedule_activity("greet", list(args)))


def make_worker(client: Any, **kwargs: Any) -> Worker:
    kwargs.setdefault("workflows", [GreeterWorkflow])
    kwargs.setdefault("activities", [greet])
    worker = Worker(client, task_queue="default", **kwargs)
    worker.poll_error_backoff = 0.01
    worker.poll_error_backoff_max = 0.02
    worker.report_retry_backoff = 0.01
    worker.report_retry_backoff_max = 0.02
    return worker


class SlowStartClient(FakeClient):
    """``/cluster/info`` answers only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def get_cluster_info(self) -> dict[str, Any]:
        self.asked.set()
        await self.answer.wait()
        return await super().get_cluster_info()


async def test_stop_while_registering_ends_run() -> None:
    client = SlowStartClient()
    worker = make_worker(client)
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(client.asked.wait(), 2)
    stopping = asyncio.create_task(worker.stop())
    # stop() flags the request and then waits, with no await in between: once the flag is up,
    # it is parked on the worker's end.
    await asyncio.wait_for(worker._stop_requested.wait(), 2)
    assert not stopping.done()  # stop() waits for run() to wind down
    client.answer.set()
    await asyncio.wait_for(asyncio.gather(runner, stopping), 2)
    assert client.calls_to("poll_workflow_task") == []


async def test_stop_before_the_run_task_starts_ends_run_at_once() -> None:
    client = FakeClient()
    worker = make_worker(client)
    runner = asyncio.create_task(worker.run())
    await worker.stop()  # the task has not run a single step yet
    assert not runner.done()
    await asyncio.wait_for(runner, 2)
    assert client.calls_to("register_worker") == [] and client.calls_to("poll_workflow_task") == []
    # The stop was for that run only: the next one serves until stopped.
    runner = asyncio.create_task(worker.run())
    await client.until_calls("poll_workflow_task")
    await worker.stop()
    await asyncio.wait_for(runner, 2)


async def test_stop_before_run_until_starts_refuses_it() -> None:
    client = FakeClient()
    client.start("greeter", "wf-early", ["Ada"])
    worker = make_worker(client)
    driving = asyncio.create_task(worker.run_until(workflow_id="wf-early", timeout=5.0))
    await worker.stop()
    with pytest.raises(RuntimeError, match="stopped before the workflow finished"):
        await asyncio.wait_for(driving, 2)
    assert client.calls_to("register_worker") == []


async def test_a_worker_cannot_run_twice_at_once() -> None:
    client = FakeClient()
    worker = make_worker(client)
    runner = asyncio.create_task(worker.run())
    await client.until_calls("poll_workflow_task")  # running: registered and polling
    with pytest.raises(RuntimeError, match="already running"):
        await worker.run()
    await worker.stop()
    await runner
    # Once stopped it may run again.
    runner = asyncio.create_task(worker.run())
    await client.until_calls("poll_workflow_task", count=2)
    await worker.stop()
    await runner
    assert len(client.calls_to("register_worker")) == 1  # registered once, for both runs


class ForgetfulClient(FakeClient):
    """Answers the first workflow poll with 412 ``worker_not_registered``, like a restarted server."""

    def __init__(self) -> None:
        super().__init__()
        self.forgot = False

    async def poll_workflow_task(self, **kwargs: Any) -> dict[str, Any] | None:
        if not self.forgot:
            self.forgot = True
            raise ServerError("must register", status_code=412, reason="worker_not_registered")
        return await super().poll_workflow_task(**kwargs)


async def test_a_poll_refused_as_unregistered_registers_again_at_once() -> None:
    client = ForgetfulClient()
    client.start("greeter", "wf-re", ["Ada"])
    worker = make_worker(client, heartbeat_interval=3600)
    execution = await worker.run_until(workflow_id="wf-re", timeout=5.0, poll_interval=0.02)
    assert execution.status == "completed"
    assert len(client.calls_to("register_worker")) == 2


class OutageClient(FakeClient):
    """Every outcome report fails with a transport error ``outage`` times before getting through."""

    def __init__(self, outage: int) -> None:
        super().__init__()
        self.outage = {"complete_activity_task": outage, "complete_workflow_task": outage}

    async def _down(self, name: str, kwargs: dict[str, Any]) -> None:
        if self.outage[name] > 0:
            self.outage[name] -= 1
            self.calls.append((name + ":unreachable", kwargs))
            raise TransportError("connection refused")

    async def complete_activity_task(self, **kwargs: Any) -> dict[str, Any]:
        await self._down("complete_activity_task", kwargs)
        return await super().complete_activity_task(**kwargs)

    async def complete_workflow_task(self, **kwargs: Any) -> dict[str, Any]:
        await self._down("complete_workflow_task", kwargs)
        return await super().complete_workflow_task(**kwargs)


async def test_outcomes_are_retried_while_the_server_is_unreachable() -> None:
    client = OutageClient(outage=4)
    client.start("greeter", "wf-out", ["Bo"])
    worker = make_worker(client)
    execution = await worker.run_until(workflow_id="wf-out", timeout=5.0, poll_interval=0.02)
    assert execution.status == "completed"
    assert execution.output == {"greeting": "Hello, Bo!", "length": 2}
    assert len(client.calls_to("complete_activity_task:unreachable")) == 4
    assert len(client.calls_to("complete_activity_task")) == 1


async def test_an_outcome_is_given_up_after_the_report_retry_timeout() -> None:
    client = OutageClient(outage=10_000)
    client.add_activity_task("greet", ["Cy"])
    worker = make_worker(client, workflows=[])
    worker.report_retry_timeout = 0.1
    runner = asyncio.create_task(worker.run())
    await client.until(
        lambda: client.metrics.counter("durable_workflow_worker_tasks", {"outcome": "dropped"})
    )
    await worker.stop()
    await runner
    assert client.metrics.counter("durable_workflow_worker_tasks", {"outcome": "dropped"}) == 1
    assert 2 <= len(client.calls_to("complete_activity_task:unreachable")) <= 20


async def test_cancelling_again_during_the_drain_leaves_no_task_behind() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @activity.defn(name="slow")
    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    client = FakeClient()
    client.add_activity_task("slow", [])
    worker = make_worker(client, workflows=[], activities=[slow], shutdown_timeout=30)
    draining = asyncio.Event()
    drain = worker._drain

    async def observed_drain() -> None:
        draining.set()
        await drain()

    worker._drain = observed_drain  # type: ignore[method-assign]
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 2)
    runner.cancel()  # first cancellation: graceful drain (up to 30 s)
    await asyncio.wait_for(draining.wait(), 2)
    assert not runner.done() and not cancelled.is_set()
    runner.cancel()  # second cancellation: stop waiting, but cancel the activity too
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(runner, 2)
    assert cancelled.is_set()
    assert not worker._inflight
    await asyncio.wait_for(worker.stop(), 1)  # nobody waits forever on a dead worker


async def test_cancelling_run_until_is_not_swallowed() -> None:
    client = FakeClient()
    client.start("greeter", "wf-never", ["x"])
    worker = make_worker(client, activities=[])  # the activity never runs: the workflow stays open
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(worker.run_until(workflow_id="wf-never", timeout=30), 0.2)


async def test_run_until_accepts_the_canceled_spelling() -> None:
    client = FakeClient()
    run = client.start("greeter", "wf-canceled", ["x"])
    run.execution.status = "canceled"  # the American spelling, seen from peer servers
    worker = make_worker(client)
    execution = await asyncio.wait_for(worker.run_until(workflow_id="wf-canceled", timeout=5), 2)
    assert execution.status == "canceled"


class UnreachableAtStartClient(FakeClient):
    """``/cluster/info`` fails with ``error`` the first ``failures`` times it is asked."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__()
        self.failures = failures
        self.error = error
        self.asked = 0
        self.failed_once = asyncio.Event()
        self.registered = asyncio.Event()

    async def register_worker(self, **kwargs: Any) -> Any:
        answer = await super().register_worker(**kwargs)
        self.registered.set()
        return answer

    async def get_cluster_info(self) -> dict[str, Any]:
        self.asked += 1
        if self.asked <= self.failures:
            self.failed_once.set()
            raise self.error
        return await super().get_cluster_info()


@pytest.mark.parametrize(
    "error",
    [
        TransportError("connection refused"),
        ServerError("restarting", status_code=503, reason="database_unavailable"),
    ],
    ids=["unreachable", "503"],
)
async def test_run_waits_for_a_server_that_is_not_up_yet(error: Exception) -> None:
    client = UnreachableAtStartClient(failures=3, error=error)
    worker = make_worker(client)
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(client.registered.wait(), 5)
    assert client.asked == 4
    await worker.stop()
    await asyncio.wait_for(runner, 5)


async def test_run_refused_at_start_for_a_reason_waiting_cannot_cure_raises_at_once() -> None:
    client = UnreachableAtStartClient(failures=1, error=ServerError("bad token", status_code=401))
    worker = make_worker(client)
    with pytest.raises(ServerError, match="bad token"):
        await asyncio.wait_for(worker.run(), 5)
    assert client.asked == 1


async def test_stop_while_waiting_for_the_server_ends_run_without_registering() -> None:
    client = UnreachableAtStartClient(failures=10**6, error=TransportError("connection refused"))
    worker = make_worker(client)
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(client.failed_once.wait(), 5)
    await worker.stop()
    await asyncio.wait_for(runner, 5)
    assert not worker._registered
