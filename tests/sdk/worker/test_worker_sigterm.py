"""SIGTERM stops a running worker gracefully (as ``stop()``), unless the application handles it.

In-process: the FakeClient worker plane, a real SIGTERM sent to this process. The real-process
version (a worker process draining an activity on SIGTERM against a real server) is in
tests/e2e/test_worker_sigterm_smoke.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from durable_workflow import activity, workflow
from durable_workflow.worker import Worker
from durable_workflow.worker._signals import stop_on_sigterm
from tests.helpers.worker_fakes import FakeClient


@activity.defn(name="noop")
async def noop() -> None:
    return None


@workflow.defn(name="idle")
class Idle:
    def run(self, ctx: Any) -> Any:
        return (yield ctx.schedule_activity("noop", []))


@pytest.fixture(autouse=True)
def default_sigterm() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


async def test_sigterm_stops_a_running_worker_and_the_handler_is_removed_after() -> None:
    client = FakeClient()
    worker = Worker(client, task_queue="default", workflows=[Idle], activities=[noop])
    runner = asyncio.create_task(worker.run())
    # Registered means _start() is over and the handler is in place (it is installed before).
    while not worker._registered:
        await asyncio.sleep(0)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(runner, 10)
    assert worker._stop_requested.is_set()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


async def test_an_application_sigterm_handler_is_kept() -> None:
    seen: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    stopped = asyncio.Event()
    with stop_on_sigterm(stopped.set, "w1") as installed:
        assert installed is False
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0)
    assert seen == [signal.SIGTERM] and not stopped.is_set()


async def test_not_installed_off_the_main_thread() -> None:
    def in_thread() -> bool:
        async def probe() -> bool:
            with stop_on_sigterm(lambda: None, "w1") as installed:
                return installed

        return asyncio.run(probe())

    assert await asyncio.to_thread(in_thread) is False
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
