"""``wait_event``: a long poll's timed wait for its wake-up, in the poll's own task."""

from __future__ import annotations

import asyncio
import sys

import pytest

from durable_workflow_server.engine.event_wait import wait_event


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="3.10 keeps wait_for: its own task resumes the waiter turns later"
)
async def test_set_meanwhile_is_true_and_resumes_the_waiter_in_one_turn() -> None:
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 60.0))
    await asyncio.sleep(0)  # the waiter is waiting
    event.set()
    await asyncio.sleep(0)  # one turn: no task of its own to finish first
    assert waiter.done() and waiter.result() is True


async def test_already_set_is_true_and_the_time_limit_is_false() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.0) is True


async def test_a_cancelled_wait_raises() -> None:
    waiter = asyncio.create_task(wait_event(asyncio.Event(), 60.0))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
