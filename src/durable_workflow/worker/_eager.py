"""Eager hand-outs: tasks a request brings back already leased, run on slots reserved before it.

Three server extensions (advertised in cluster-info ``capabilities``; see docs/protocol.md,
"Fewer round trips") save a poll each: a workflow-task completion that declares free activity
slots gets the activities it scheduled, an activity completion that asks gets the run's next
workflow task, and a start made through a client this worker registered with gets the run's
first workflow task. The worker only asks for what it can run at once: a request declares the
slots it reserved (without waiting) beforehand, a task that comes back runs on one of them, and
the rest are given back when the answer (or the failure) arrives.

While such a request is in flight, the worker's polls of that kind name no held tasks: a task
leased to it by a request whose answer is still on the way is one it holds but cannot name yet,
and a hand-back would take it away again. A task whose answer is lost is found by the next poll
that names held tasks, or by its lease's end (see ``_leases.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..protocol import capabilities

logger = logging.getLogger("durable_workflow.worker")

# The task kinds a request may bring back (the worker's own kind names).
WORKFLOW = "workflow"
ACTIVITY = "activity"
# At most this many activities are asked for in one completion, whatever the free slots.
MAX_EAGER_ACTIVITIES = 8
# A poll sent just before a request that hands a task to this worker may reach the server after
# it, naming held tasks without that one: leases younger than this are not handed back.
HAND_BACK_GRACE_SECONDS = 5.0


def advertised(info: Mapping[str, Any]) -> frozenset[str]:
    """The round-trip extensions the server's cluster-info ``capabilities`` say it serves."""
    flags = info.get("capabilities")
    if not isinstance(flags, Mapping):
        return frozenset()
    return frozenset(name for name in capabilities.ROUND_TRIP_EXTENSIONS if flags.get(name) is True)


class Reservation:
    """Slots of one kind taken for what one request may bring back; unused ones go back on close."""

    def __init__(self, hands: EagerHands, kind: str, count: int) -> None:
        self._hands, self.kind, self.count = hands, kind, count
        self._open = count > 0
        if self._open:
            hands._in_flight[kind] += 1

    def take(self, raws: Iterable[Mapping[str, Any]]) -> None:
        """Run each returned task on one reserved slot (more than reserved cannot come back)."""
        for raw in raws:
            if self.count <= 0:
                logger.warning("server handed more %s tasks than slots were declared", self.kind)
                return
            if not isinstance(raw, Mapping) or not isinstance(raw.get("task_id"), str):
                continue  # nothing to run; its lease (if any) ends by itself
            if not self._hands.accepting:
                # The worker is stopping: its drain has begun without this task. The stop
                # notice (or the lease's end) hands it to another worker.
                logger.info("%s task %s handed while stopping: not run", self.kind, raw["task_id"])
                continue
            try:
                self._hands._start(self.kind, raw)
            except Exception:
                # Not started, so neither held nor on its slot: the slot goes back on close and
                # the task's lease (ours, unnamed by any poll) is handed back to another worker.
                logger.exception("%s task %s handed but not started", self.kind, raw["task_id"])
                continue
            self.count -= 1

    def close(self) -> None:
        """Give back the slots no task came for; idempotent."""
        if not self._open:
            return
        self._open = False
        self._hands._in_flight[self.kind] -= 1
        semaphore = self._hands._slots[self.kind]
        for _ in range(self.count):
            semaphore.release()
        self.count = 0


class EagerHands:
    """The worker's side of the eager hand-outs: reserving slots and starting what comes back.

    ``start(kind, raw)`` runs a task on a slot already taken (the worker's own launch of a
    polled task); ``enabled`` is the set of extensions the server advertised that this worker
    uses (its registered workflows and activities decide which).
    """

    def __init__(
        self,
        slots: Mapping[str, asyncio.Semaphore],
        start: Callable[[str, Mapping[str, Any]], None],
        enabled: Iterable[str],
    ) -> None:
        self._slots = slots
        self._start = start
        self.enabled = frozenset(enabled)
        self._in_flight = dict.fromkeys(slots, 0)
        self.accepting = True  # False once the worker stops: nothing new is asked for

    async def reserve(self, kind: str, most: int) -> Reservation:
        """Take up to ``most`` free ``kind`` slots now, without waiting (possibly none)."""
        semaphore = self._slots[kind]
        count = 0
        while self.accepting and count < most and not semaphore.locked():
            # Not locked: acquire() takes a free permit at once, without suspending.
            await semaphore.acquire()
            count += 1
        return Reservation(self, kind, count)

    def in_flight(self, kind: str) -> bool:
        """A request that may bring back a ``kind`` task is on its way: polls name no held tasks."""
        return self._in_flight.get(kind, 0) > 0

    def activity_slots_for(
        self, commands: Sequence[Mapping[str, Any]], task_queue: str, types: Iterable[str]
    ) -> int:
        """How many of ``commands`` schedule an activity this worker could run (its queue and types)."""
        if capabilities.SERVER_EAGER_ACTIVITY_DISPATCH not in self.enabled:
            return 0
        known = set(types)
        wanted = sum(
            1
            for command in commands
            if command.get("type") == "schedule_activity"
            and command.get("queue") in (None, task_queue)
            and command.get("activity_type") in known
        )
        return min(wanted, MAX_EAGER_ACTIVITIES)

    def hands_out(self, kind: str) -> bool:
        """Tasks of ``kind`` may reach this worker without a poll."""
        if kind == ACTIVITY:
            return capabilities.SERVER_EAGER_ACTIVITY_DISPATCH in self.enabled
        return bool(
            {
                capabilities.SERVER_ACTIVITY_COMPLETION_WORKFLOW_TASK,
                capabilities.SERVER_EAGER_START_WORKFLOW_TASK,
            }
            & self.enabled
        )

    def wants_next_workflow_task(self) -> bool:
        """Activity completions ask for the run's next workflow task."""
        return capabilities.SERVER_ACTIVITY_COMPLETION_WORKFLOW_TASK in self.enabled


class FirstTasks:
    """This worker as its client's in-process worker (``client/_local_workers.py``): a start made
    through that client may bring back the run's first workflow task, run here on a free slot."""

    def __init__(self, worker_id: str, hands: EagerHands, workflow_types: Iterable[str]) -> None:
        self._worker_id = worker_id
        self._hands = hands
        self._types = frozenset(workflow_types)
        # The worker's loop: a start made on another loop (a client shared across threads)
        # cannot run a task here, so it asks for none.
        self._loop = asyncio.get_running_loop()

    @property
    def worker_id(self) -> str:
        return self._worker_id

    def runs(self, workflow_type: str) -> bool:
        return workflow_type in self._types

    async def reserve_workflow_slot(self) -> Reservation | None:
        if asyncio.get_running_loop() is not self._loop:
            return None
        reservation = await self._hands.reserve(WORKFLOW, 1)
        return reservation if reservation.count else None
