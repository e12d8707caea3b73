"""The tasks a worker holds (``held_task_ids`` of its polls) while tasks arrive eagerly.

A task handed by a request's answer (``worker/_eager.py``) is held from the moment it is handed
until its handler ends, however it ends: completed, crashed, cancelled, or cancelled before it
ever ran; its slot goes back with it. The pool here is the worker's own (``TaskPool``), wired to
``EagerHands`` as ``Worker`` wires it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from durable_workflow.worker._eager import ACTIVITY, WORKFLOW, EagerHands
from durable_workflow.worker._jobs import Job
from durable_workflow.worker._task_pool import TaskPool, _cancel_all

gates: dict[str, asyncio.Event] = {}
ran: list[str] = []


def _handler(task_id: str) -> Any:
    async def handle(runtime: Any) -> str:
        ran.append(task_id)
        await gates.setdefault(task_id, asyncio.Event()).wait()
        if task_id.startswith("crash"):
            raise RuntimeError("handler crashed")
        return "completed"

    return handle


def _wired(
    slots: int = 2, refuse: frozenset[str] = frozenset()
) -> tuple[TaskPool, EagerHands, list[tuple[Any, ...]]]:
    records: list[tuple[Any, ...]] = []
    pool = TaskPool(slots, slots, runtime=lambda: None, record=lambda *a: records.append(a))  # type: ignore[arg-type,return-value]

    def start(kind: str, raw: Mapping[str, Any]) -> None:
        if raw["task_id"] in refuse:
            raise RuntimeError("cannot start")
        pool.launch(kind, Job(raw["task_id"], _handler(raw["task_id"])))

    return pool, EagerHands(pool.slots, start, ["eager_activity_dispatch"]), records


def _free(pool: TaskPool, kind: str) -> int:
    return pool.slots[kind]._value


@pytest.fixture(autouse=True)
def _reset() -> None:
    gates.clear()
    ran.clear()


async def _until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not met")


async def test_handed_tasks_are_held_from_the_hand_out_until_their_handlers_end() -> None:
    pool, hands, records = _wired(slots=3)
    reservation = await hands.reserve(ACTIVITY, 3)
    reservation.take([{"task_id": "a1"}, {"task_id": "crash-a2"}])
    # Held at once, before either handler ran: a poll sent now names both.
    assert pool.held.ids(ACTIVITY) == ["a1", "crash-a2"] and pool.busy[ACTIVITY] == 2
    reservation.close()
    assert _free(pool, ACTIVITY) == 1  # the unused reserved slot only
    await _until(lambda: len(ran) == 2)
    gates["a1"].set()
    await _until(lambda: pool.held.ids(ACTIVITY) == ["crash-a2"])
    gates["crash-a2"].set()  # a crash releases it too
    await _until(lambda: not pool.inflight)
    assert pool.held.ids(ACTIVITY) == [] and pool.busy[ACTIVITY] == 0 and _free(pool, ACTIVITY) == 3
    assert sorted(r[-1] for r in records) == ["completed", "error"]


async def test_a_handed_task_cancelled_before_it_ran_is_no_longer_held() -> None:
    """A worker cancelled (killed) right after a hand-out: the task's coroutine never starts."""
    pool, hands, records = _wired(slots=1)
    reservation = await hands.reserve(WORKFLOW, 1)
    reservation.take([{"task_id": "w1"}])
    reservation.close()
    assert pool.held.ids(WORKFLOW) == ["w1"]
    await _cancel_all(set(pool.inflight))  # what a cancelled drain does: w1 took no step yet
    assert ran == []
    assert pool.held.ids(WORKFLOW) == [] and pool.busy[WORKFLOW] == 0 and _free(pool, WORKFLOW) == 1
    assert [r[-1] for r in records] == ["cancelled"]


async def test_a_handed_task_cancelled_while_running_is_no_longer_held() -> None:
    pool, hands, _ = _wired(slots=1)
    reservation = await hands.reserve(WORKFLOW, 1)
    reservation.take([{"task_id": "w1"}])
    reservation.close()
    await _until(lambda: ran == ["w1"])
    await pool.drain(0.0)
    assert pool.held.ids(WORKFLOW) == [] and pool.busy[WORKFLOW] == 0 and _free(pool, WORKFLOW) == 1


async def test_a_handed_task_that_cannot_start_is_not_held_and_the_rest_still_run() -> None:
    pool, hands, _ = _wired(slots=2, refuse=frozenset({"a1"}))
    reservation = await hands.reserve(ACTIVITY, 2)
    reservation.take([{"task_id": "a1"}, {"task_id": "a2"}])
    reservation.close()
    assert pool.held.ids(ACTIVITY) == ["a2"]
    assert _free(pool, ACTIVITY) == 1  # a1's slot is back, a2 runs on the other
    gates.setdefault("a2", asyncio.Event()).set()
    await _until(lambda: not pool.inflight)
    assert pool.held.ids(ACTIVITY) == [] and _free(pool, ACTIVITY) == 2
