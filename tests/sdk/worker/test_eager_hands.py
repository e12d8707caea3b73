"""The worker's side of the eager hand-outs (``worker/_eager.py``, ``client/_local_workers.py``).

Slots are reserved without waiting before a request that may bring tasks back, each returned task
runs on one of them, the rest are given back; while such a request is in flight the kind's polls
name no held tasks; a start asks only through a registered worker with a free slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from durable_workflow.client._local_workers import LocalWorkers, local_workers
from durable_workflow.protocol import capabilities
from durable_workflow.worker._eager import ACTIVITY, WORKFLOW, EagerHands, FirstTasks, advertised

ALL = capabilities.ROUND_TRIP_EXTENSIONS


def _hands(
    workflow_slots: int = 2, activity_slots: int = 2, enabled: Any = ALL
) -> tuple[EagerHands, list[Any]]:
    started: list[Any] = []
    slots = {WORKFLOW: asyncio.Semaphore(workflow_slots), ACTIVITY: asyncio.Semaphore(activity_slots)}

    def start(kind: str, raw: Mapping[str, Any]) -> None:
        started.append((kind, raw["task_id"]))

    return EagerHands(slots, start, enabled), started


def _free(hands: EagerHands, kind: str) -> int:
    return hands._slots[kind]._value


async def test_reserve_takes_only_free_slots_and_close_gives_back_the_unused() -> None:
    hands, started = _hands(activity_slots=3)
    reservation = await hands.reserve(ACTIVITY, 5)
    assert reservation.count == 3 and _free(hands, ACTIVITY) == 0
    assert hands.in_flight(ACTIVITY) and not hands.in_flight(WORKFLOW)
    reservation.take([{"task_id": "a1"}])
    reservation.close()
    assert started == [(ACTIVITY, "a1")]
    assert _free(hands, ACTIVITY) == 2  # the task's slot stays taken until its run ends
    assert not hands.in_flight(ACTIVITY)
    reservation.close()  # idempotent
    assert _free(hands, ACTIVITY) == 2


async def test_no_free_slot_reserves_nothing_and_marks_nothing_in_flight() -> None:
    hands, _ = _hands(workflow_slots=1)
    held = await hands._slots[WORKFLOW].acquire()  # the parked poll's slot
    assert held
    reservation = await hands.reserve(WORKFLOW, 1)
    assert reservation.count == 0 and not hands.in_flight(WORKFLOW)
    reservation.close()
    assert _free(hands, WORKFLOW) == 0


async def test_more_tasks_than_reserved_and_unreadable_ones_are_not_run() -> None:
    hands, started = _hands(activity_slots=1)
    reservation = await hands.reserve(ACTIVITY, 1)
    reservation.take([{"no": "id"}, {"task_id": "a1"}, {"task_id": "a2"}])
    reservation.close()
    assert started == [(ACTIVITY, "a1")]


async def test_a_stopping_worker_asks_for_nothing_and_runs_nothing_late() -> None:
    hands, started = _hands()
    reservation = await hands.reserve(WORKFLOW, 1)
    hands.accepting = False
    reservation.take([{"task_id": "w1"}])  # an answer arriving during the drain
    reservation.close()
    assert started == [] and _free(hands, WORKFLOW) == 2
    assert (await hands.reserve(WORKFLOW, 1)).count == 0


def test_activity_slots_count_only_activities_this_worker_runs() -> None:
    hands, _ = _hands()
    commands = [
        {"type": "schedule_activity", "activity_type": "greet"},
        {"type": "schedule_activity", "activity_type": "greet", "queue": "q1"},
        {"type": "schedule_activity", "activity_type": "greet", "queue": "other"},
        {"type": "schedule_activity", "activity_type": "unknown"},
        {"type": "start_timer", "delay_seconds": 1},
    ]
    assert hands.activity_slots_for(commands, "q1", ["greet"]) == 2
    without, _ = _hands(enabled=[capabilities.SERVER_EAGER_START_WORKFLOW_TASK])
    assert without.activity_slots_for(commands, "q1", ["greet"]) == 0
    assert not without.wants_next_workflow_task()


def test_only_advertised_extensions_are_used() -> None:
    assert advertised({}) == frozenset()
    assert advertised({"capabilities": {"eager_activity_dispatch": True, "workflow_pause": True}}) == {
        capabilities.SERVER_EAGER_ACTIVITY_DISPATCH
    }
    assert advertised({"capabilities": {name: "yes" for name in ALL}}) == frozenset()


async def test_a_start_asks_only_through_a_worker_of_its_queue_and_type_with_a_free_slot() -> None:
    registry = LocalWorkers()
    hands, started = _hands(workflow_slots=1)
    worker = FirstTasks("w-1", hands, ["greeter"])
    registry.add("q1", worker)
    assert await registry.reserve("q2", "greeter") is None
    assert await registry.reserve("q1", "other") is None
    reserved = await registry.reserve("q1", "greeter")
    assert reserved is not None and reserved[0] == "w-1"
    assert await registry.reserve("q1", "greeter") is None  # its one slot is reserved
    reserved[1].take([{"task_id": "t1"}])
    reserved[1].close()
    assert started == [(WORKFLOW, "t1")]
    registry.remove("q1", worker)
    assert await registry.reserve("q1", "greeter") is None


def test_a_start_on_another_loop_asks_for_nothing() -> None:
    async def registered() -> FirstTasks:
        hands, _ = _hands()
        return FirstTasks("w-1", hands, ["greeter"])

    worker = asyncio.run(registered())  # the worker's loop, now gone
    assert asyncio.run(worker.reserve_workflow_slot()) is None


def test_the_registry_is_one_per_client() -> None:
    class Client:
        pass

    first, second = Client(), Client()
    assert local_workers(first) is local_workers(first)
    assert local_workers(first) is not local_workers(second)
