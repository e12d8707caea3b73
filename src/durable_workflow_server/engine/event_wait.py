"""Waiting for an :class:`asyncio.Event` with a time limit, without a task per wait.

``asyncio.wait_for`` (before Python 3.12) wraps the awaited coroutine in a task of its own, so
a woken long poll resumes only after that task finished and woke it: two more turns of the event
loop between a start setting the poll's event and the poll answering. ``asyncio.timeout``
(3.11+) waits in the poll's own task; Python 3.10 keeps ``wait_for``.
"""

from __future__ import annotations

import asyncio
import sys


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set, at most ``seconds``: whether it was set."""
    if event.is_set():
        return True
    try:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(seconds):
                await event.wait()
        else:
            await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        return event.is_set()
    return True
