"""Burst polls: more than one poll of a kind in flight while the queue has a backlog, one when idle.

A ``Worker`` runs one steady poll loop per kind and ``max_concurrent_*_task_polls - 1`` burst
loops that poll only while the last poll brought a task (``worker/_polls.py``). A poll sent while
another of its kind is in flight names no held tasks: the other may be bringing one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from durable_workflow import activity
from durable_workflow.worker import Worker
from tests.helpers.worker_fakes import FakeClient

gate: list[asyncio.Event] = []  # opens the activities (made per test: an Event binds one loop)
running_now: list[FakeClient] = []  # the test's client, told when an activity starts


@activity.defn(name="held_until_released")
async def held_until_released() -> str:
    client = running_now[0]
    client.started += 1  # type: ignore[attr-defined]
    client.notify()
    await gate[0].wait()
    return "ok"


class CountingClient(FakeClient):
    """A fake whose activity polls record how many polls were in flight when each was sent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_flight = 0
        self.started = 0
        running_now[:] = [self]
        #: (polls in flight including this one, its held_task_ids) per activity poll, in order.
        self.sent: list[tuple[int, list[str] | None]] = []
        #: The ``hold_seconds`` of each activity poll, in order (``None``: not sent).
        self.holds: list[float | None] = []

    async def poll_activity_task(self, **kwargs: Any) -> Any:
        self.in_flight += 1
        held = kwargs.get("held_task_ids")
        self.sent.append((self.in_flight, list(held) if held is not None else None))
        self.holds.append(kwargs.pop("hold_seconds", None))
        try:
            await asyncio.sleep(0)  # a real poll is a round trip: other loops run meanwhile
            return await super().poll_activity_task(**kwargs)
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def _running(client: FakeClient, *, tasks: int, slots: int, polls: int) -> AsyncIterator[None]:
    """A worker of ``slots`` activity slots and ``polls`` activity polls running over ``tasks``
    held activities; on the way out the activities are let go and the worker is stopped."""
    for _ in range(tasks):
        client.add_activity_task("held_until_released", [])
    worker = Worker(
        client,
        task_queue="default",
        activities=[held_until_released],
        max_concurrent_activity_tasks=slots,
        max_concurrent_activity_task_polls=polls,
    )
    worker.poll_error_backoff = 0.01
    running = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        gate[0].set()
        await worker.stop()
        await running


@pytest.fixture(autouse=True)
def _reset() -> None:
    gate[:] = [asyncio.Event()]


async def test_a_backlog_is_polled_by_several_loops_and_an_idle_queue_by_one() -> None:
    client = CountingClient()
    async with _running(client, tasks=12, slots=12, polls=3):
        await client.until(lambda: client.started == 12)
        # The backlog was taken by more than one poll at a time, never more than three.
        assert max(count for count, _ in client.sent) in (2, 3)
        # Every slot is busy: no poll goes out until one comes back.
        gate[0].set()
        await client.until_calls("complete_activity_task", 12)
        drained = len(client.sent)
        # Each burst loop makes at most the poll it was about to make, then waits for a backlog.
        await client.until(lambda: len(client.sent) >= drained + 10)
        assert all(count == 1 for count, _ in client.sent[drained + 6 :])


async def test_a_poll_names_held_tasks_only_when_no_other_poll_of_its_kind_is_in_flight() -> None:
    client = CountingClient()
    async with _running(client, tasks=6, slots=8, polls=3):
        await client.until(lambda: client.started == 6)
        # Once the burst loops have gone quiet the steady loop names all six again.
        await client.until(lambda: client.sent[-1][1] is not None and len(client.sent[-1][1]) == 6)
        assert any(count > 1 for count, _ in client.sent)
        for count, held in client.sent:
            if count > 1:
                assert held is None


class OverlapClient(CountingClient):
    """Records every activity poll sent while a poll that named held tasks was in flight."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.naming_in_flight = 0
        self.overlapping: list[list[str] | None] = []

    async def poll_activity_task(self, **kwargs: Any) -> Any:
        held = kwargs.get("held_task_ids")
        if self.naming_in_flight:
            self.overlapping.append(held)
        naming = held is not None
        self.naming_in_flight += naming
        try:
            return await super().poll_activity_task(**kwargs)
        finally:
            self.naming_in_flight -= naming


async def test_no_poll_overlaps_a_poll_that_names_held_tasks() -> None:
    # Requests are not ordered across connections: a poll sent while a naming poll is on its
    # way may be served first, and the naming poll's hand-back would take its task back.
    client = OverlapClient()
    async with _running(client, tasks=6, slots=8, polls=3):
        await client.until(lambda: client.started == 6)
        await client.until(lambda: any(held for _, held in client.sent))  # named once drained
        assert any(count > 1 for count, _ in client.sent)  # the burst loops did poll
        assert client.overlapping == []


async def test_burst_polls_are_not_held_by_the_server_and_the_steady_poll_is() -> None:
    client = CountingClient()
    async with _running(client, tasks=6, slots=8, polls=3):
        await client.until(lambda: client.started == 6)
        # Some polls were a burst loop's (answered at once when empty), the rest the steady
        # loop's, which leave the hold to the server as every poll did before.
        assert 0.0 in client.holds
        assert None in client.holds
        assert set(client.holds) <= {0.0, None}


async def test_one_poll_per_kind_polls_one_at_a_time() -> None:
    client = CountingClient()
    async with _running(client, tasks=6, slots=8, polls=1):
        await client.until(lambda: client.started == 6)
        await client.until(lambda: len(client.sent) >= 8)
        assert all(count == 1 and held is not None for count, held in client.sent)
        assert set(client.holds) == {None}  # no burst loop, so every poll is held as before


@pytest.mark.parametrize(
    "option", ["max_concurrent_workflow_task_polls", "max_concurrent_activity_task_polls"]
)
def test_fewer_than_one_poll_is_refused(option: str) -> None:
    with pytest.raises(ValueError, match="task_polls"):
        Worker(FakeClient(), task_queue="default", activities=[held_until_released], **{option: 0})
