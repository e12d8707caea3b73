"""In-process wake-ups for long polls, and the long-poll loop itself.

A waiting poll registers an :class:`asyncio.Event` under its key (``(kind, namespace, queue)``,
or ``("history", run_id)`` for history followers) *before* probing, so work committed between
the probe and the wait still wakes it. Other processes' work (shared PostgreSQL) wakes it through
``LISTEN``/``NOTIFY`` (:mod:`.broadcast`); re-probing every ``reprobe_interval`` seconds is the
safety net, and the only way across SQLite processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .event_wait import wait_event
from .parked import ParkedPolls

T = TypeVar("T")


class Waiters:
    """In-process wake-ups for long polls, keyed by arbitrary tuples."""

    def __init__(self) -> None:
        self._events: dict[Any, set[asyncio.Event]] = {}
        # What a wake-up handed a waiting poll with it (:meth:`hand`), until it takes it or
        # stops waiting on that registration.
        self._handed: dict[asyncio.Event, Any] = {}
        self.closed = False
        self.active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Parked workflow-task polls a start may hand its task to (see .parked).
        self.parked = ParkedPolls()

    @contextmanager
    def polling(self) -> Iterator[None]:
        """Count a running long poll so ``drain`` can wait for it before the store closes."""
        self._poll_started()
        try:
            yield
        finally:
            self._poll_ended()

    def _poll_started(self) -> None:
        self.active += 1
        self._idle.clear()

    def _poll_ended(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._idle.set()

    async def drain(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    @contextmanager
    def watch(self, *keys: Any) -> Iterator[asyncio.Event]:
        event = self._register(keys)
        try:
            yield event
        finally:
            self._unregister(keys, event)

    # The long-poll loop registers and unregisters with these directly (try/finally): a
    # generator-based context manager per probe cost more than the registration itself.
    def _register(self, keys: tuple[Any, ...]) -> asyncio.Event:
        event = asyncio.Event()
        if self.closed:
            event.set()
        events = self._events
        for key in keys:
            bucket = events.get(key)
            if bucket is None:
                events[key] = {event}
            else:
                bucket.add(event)
        return event

    def _unregister(self, keys: tuple[Any, ...], event: asyncio.Event) -> None:
        if self._handed:
            self._handed.pop(event, None)
        events = self._events
        for key in keys:
            bucket = events.get(key)
            if bucket is not None:
                bucket.discard(event)
                if not bucket:
                    del events[key]

    def watching(self, key: Any) -> int:
        """How many polls are waiting on ``key`` right now (lets tests wait until a poll parked)."""
        return len(self._events.get(key, ()))

    def notify(self, key: Any) -> None:
        for event in self._events.get(key, ()):
            event.set()

    def hand(self, key: Any, payload: Any) -> None:
        """:meth:`notify`, handing each poll waiting on ``key`` ``payload`` (see :meth:`take`)."""
        for event in self._events.get(key, ()):
            self._handed[event] = payload
            event.set()

    def take(self, event: asyncio.Event) -> Any:
        """What a wake-up handed the poll registered as ``event`` (``None``: nothing)."""
        return self._handed.pop(event, None)

    def notify_all(self) -> None:
        """Wake every waiting poll (each re-probes; used when specific wake-ups may be lost)."""
        for bucket in self._events.values():
            for event in bucket:
                event.set()

    def close(self) -> None:
        self.closed = True
        self.parked.close()
        for bucket in self._events.values():
            for event in bucket:
                event.set()


#: A parked poll's wait for a wake-up (its event, at most so many seconds): a task handed to it
#: while it waited, else ``None`` (see :func:`.parked.ParkedPolls.wait`).
Wait = Callable[[asyncio.Event, float], Awaitable[T | None]]


async def long_poll(
    waiters: Waiters,
    keys: tuple[Any, ...],
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,
    reprobe_interval: float,
    wait: Wait[T] | None = None,
) -> T | None:
    """Probe now, then again on every wake-up or ``reprobe_interval``, until ``timeout``.

    ``wait``: how the poll waits between probes, when it may be handed a task meanwhile.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, timeout)
    waiters._poll_started()
    try:
        return await _poll_loop(waiters, keys, probe, deadline, reprobe_interval, wait)
    finally:
        waiters._poll_ended()


async def _poll_loop(
    waiters: Waiters,
    keys: tuple[Any, ...],
    probe: Callable[[], Awaitable[T | None]],
    deadline: float,
    reprobe_interval: float,
    wait: Wait[T] | None,
) -> T | None:
    loop = asyncio.get_running_loop()
    while True:
        if waiters.closed:
            return None
        woken = waiters._register(keys)
        try:
            result = await probe()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or waiters.closed:
                return None
            if wait is not None:
                handed = await wait(woken, min(remaining, reprobe_interval))
                if handed is not None:
                    return handed
                continue
            await wait_event(woken, min(remaining, reprobe_interval))
        finally:
            waiters._unregister(keys, woken)


async def cancel_safe(
    claim: Callable[[], Awaitable[T | None]], release: Callable[[T], Awaitable[bool]]
) -> T | None:
    """Run ``claim``; if the poll is cancelled once the lease is committed, hand the task back.

    A poller that disconnects (or an HTTP client that times out) mid-claim would otherwise
    leave the task leased to a worker that never saw it until the lease expires.
    """
    inner = asyncio.ensure_future(claim())
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            task = await inner
            if task is not None:
                await asyncio.shield(release(task))
        raise
