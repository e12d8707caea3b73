"""Workflow-task long polls parked in this process, which a start may hand its new task to.

A workflow-task poll that found nothing parks an offer (:class:`ParkedPoll`: its worker's
registration as its first probe read it, the history page size it asked for, its
``poll_request_id``) while it waits. A start for that namespace and queue reserves one offer
before its transaction (:meth:`ParkedPolls.reserve`; synchronous on the event loop, so no two
starts reserve the same poll), inserts its first task already leased to that worker when the
claim rules allow it, and after the commit delivers the task to the poll
(:meth:`ParkedPolls.deliver`), which answers it without a claim transaction of its own.

The states of an offer: ``open`` (waiting, reservable), ``reserved`` (a start decides),
``delivered`` (a task is in it), ``gone`` (the poll stopped waiting: woken, timed out or
cancelled). A poll that stops waiting while its offer is reserved waits for the start to settle
it (one transaction) unless it is cancelled; a cancelled poll leaves its offer ``gone``, and a
start whose delivery finds it gone hands the task back at once (the poll's own release). Only
polls of this process get hand-offs: another process's polls are woken (``LISTEN/NOTIFY``) and
claim, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..store.rows import WorkerRow
from .event_wait import wait_event
from .shapes import WorkflowTaskBody
from .util import best_effort_in_background

OPEN, RESERVED, DELIVERED, GONE = "open", "reserved", "delivered", "gone"

#: Hands a leased task back exactly as a poll would have returned it (the poll's release).
Release = Callable[[WorkflowTaskBody], Awaitable[Any]]


@dataclass(eq=False)
class ParkedPoll:
    """One parked workflow-task poll's offer to take a new task (see the module docstring)."""

    worker: WorkerRow  # the registration the poll's first probe read (types, build id)
    types: frozenset[str]
    poll_request_id: str | None
    page_size: int
    woken: asyncio.Event  # the poll's wake-up: set on delivery
    state: str = OPEN
    task: WorkflowTaskBody | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class ParkedPolls:
    """The offers of this process's parked workflow-task polls, by ``(namespace, queue)``."""

    def __init__(self) -> None:
        self._offers: dict[tuple[str, str], dict[ParkedPoll, None]] = {}  # insertion order: oldest first
        self.closed = False

    @contextmanager
    def parked(self, key: tuple[str, str], offer: ParkedPoll) -> Iterator[ParkedPoll]:
        """Offer ``offer`` while the block runs (the poll's wait)."""
        self._offers.setdefault(key, {})[offer] = None
        try:
            yield offer
        finally:
            bucket = self._offers.get(key)
            if bucket is not None:
                bucket.pop(offer, None)
                if not bucket:
                    del self._offers[key]

    def offers(self, namespace: str, queue: str) -> list[ParkedPoll]:
        """The offers parked on the queue now, oldest first (lets tests wait until a poll parked)."""
        return list(self._offers.get((namespace, queue), ()))

    def reserve(self, namespace: str, queue: str, workflow_type: str) -> ParkedPoll | None:
        """The longest-parked open offer on the queue whose worker runs ``workflow_type``, reserved.

        A poll already woken (other work was queued since its probe) is about to probe again and
        claim in queue order: it is left to do so, so a start does not overtake older tasks.
        """
        if self.closed:
            return None
        for offer in self._offers.get((namespace, queue), ()):
            if offer.state == OPEN and not offer.woken.is_set() and workflow_type in offer.types:
                offer.state = RESERVED
                offer.settled.clear()
                return offer
        return None

    @staticmethod
    def deliver(offer: ParkedPoll, task: WorkflowTaskBody) -> bool:
        """Hand ``task`` to the reserved poll; ``False`` when it went away meanwhile (not delivered)."""
        if offer.state != RESERVED:
            return False
        offer.task, offer.state = task, DELIVERED
        offer.settled.set()
        offer.woken.set()
        return True

    @staticmethod
    def unreserve(offer: ParkedPoll) -> None:
        """The start handed nothing: the poll waits on (or goes on, if it stopped waiting meanwhile)."""
        if offer.state == RESERVED:
            offer.state = OPEN
            offer.settled.set()

    @staticmethod
    def withhold(offer: ParkedPoll) -> None:
        """The start failed (to be retried without a hand-off): the poll waits on, offered to no one."""
        if offer.state == RESERVED:
            offer.state = GONE
            offer.settled.set()

    @staticmethod
    async def withdraw(offer: ParkedPoll, release: Release) -> WorkflowTaskBody | None:
        """The poll stops waiting: the task delivered to it, else ``None`` (after a reservation settled)."""
        while offer.state == RESERVED:
            try:
                await offer.settled.wait()
            except asyncio.CancelledError:
                ParkedPolls.abandon(offer, release)
                raise
        task = offer.task if offer.state == DELIVERED else None
        offer.state, offer.task = GONE, None
        return task

    @staticmethod
    def abandon(offer: ParkedPoll, release: Release) -> None:
        """The poll was cancelled: a task already delivered is handed back, a reserving start will."""
        task = offer.task if offer.state == DELIVERED else None
        offer.state, offer.task = GONE, None
        if task is not None:
            best_effort_in_background(release(task))

    async def wait(
        self, key: tuple[str, str], offer: ParkedPoll, seconds: float, release: Release
    ) -> WorkflowTaskBody | None:
        """Wait (at most ``seconds``) with ``offer`` parked: the task handed to it meanwhile, else None.

        ``release``: the poll's hand-back, for a task delivered to a poll cancelled before it
        could answer it.
        """
        with self.parked(key, offer):
            try:
                await wait_event(offer.woken, seconds)
            except asyncio.CancelledError:
                self.abandon(offer, release)
                raise
            return await self.withdraw(offer, release)

    def close(self) -> None:
        """No new reservations (shutdown); reserved ones settle as usual."""
        self.closed = True
