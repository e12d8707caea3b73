"""The history page an eager hand-out carries is the one a read of the same task returns, byte for byte.

A start's first task is answered from the events the start has just inserted, without reading
them back (``history.rows.KeptEvents``); an activity completion's next task still reads its
page. Either way the task object must be exactly what rendering the same leased task from the
database gives (a poll's rendering, ``claims.workflow_task_payload``), and its pages what the
worker's history read of that task returns: same keys, same order, same values.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from durable_workflow_server.engine.history import rows as history_rows
from durable_workflow_server.engine.history.pages import history_page
from durable_workflow_server.engine.runs.rows import load_run
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.util import encode_token
from durable_workflow_server.engine.workflow_tasks import rows as task_rows
from durable_workflow_server.engine.workflow_tasks.claims import workflow_task_payload
from durable_workflow_server.store.rows import WorkflowTaskRow
from tests.helpers.statements import StatementLog
from tests.server.conftest import EngineFactory
from tests.server.engine.engine_driver import NS, Driver, activity

TYPES: dict[str, Any] = {"supported_workflow_types": ["greeter"], "supported_activity_types": ["greet"]}
# Values whose JSON text is not what Python prints: non-ASCII, escapes, floats, nesting, nulls.
MEMO = {
    "ünï": 'çødé ☃ \u2028 "quoted" \\ back',
    "numbers": [0, -1, 2.5, 1e300, -0.0, 12345678901234567890],
    "nested": {"z": None, "a": [True, False, {"": []}]},
}


def _bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


async def _reread(engine: Engine, task_id: str, page_size: int) -> dict[str, Any]:
    """The leased task rendered from the database, as a poll renders the task it claimed."""
    async with engine._read() as tx:
        task = cast(WorkflowTaskRow, await tx.one(task_rows.TASK, {"b_task_id": task_id}))
        run = await load_run(tx, task["run_id"], lock=False)
        assert run is not None
        return dict(await workflow_task_payload(tx, task, run, page_size))


async def _pages(engine: Engine, task: dict[str, Any], page_size: int) -> list[dict[str, Any]]:
    """Every page of the task's history through the worker's history read, from the first event."""
    pages, token = [], encode_token(task.get("history_after_sequence") or 0)
    while token is not None:
        page = await engine.workflow_task_history(
            NS,
            task["task_id"],
            lease_owner=task["lease_owner"],
            workflow_task_attempt=task["workflow_task_attempt"],
            next_history_page_token=token,
            history_page_size=page_size,
        )
        pages.append(dict(page))
        token = page["next_history_page_token"]
    return pages


def _first_page(task: dict[str, Any]) -> dict[str, Any]:
    keys = ("history_events", "total_history_events", "next_history_page_token")
    return {key: task[key] for key in keys}


async def _assert_same_as_read(engine: Engine, task: dict[str, Any], page_size: int) -> None:
    assert _bytes(task) == _bytes(await _reread(engine, task["task_id"], page_size))
    pages = await _pages(engine, task, page_size)
    first = {k: v for k, v in pages[0].items() if k not in ("task_id", "workflow_task_attempt")}
    assert _bytes(_first_page(task)) == _bytes(first)


@pytest.mark.parametrize("page_size", [1, 100])
async def test_an_eager_start_page_is_the_page_a_read_returns(
    make_engine: EngineFactory, page_size: int
) -> None:
    engine = await make_engine(history_page_size_default=page_size)
    driver = Driver(engine)
    await driver.register("w1", **TYPES)
    with StatementLog(engine.store) as log:
        started = await driver.start(
            "eager", args=[MEMO], memo=MEMO, business_key="bk-ü", eager_worker_id="w1"
        )
    # Answered from what the start inserted: its history is not read back.
    assert not [e for e in log.entries if e.sql.startswith("SELECT") and "FROM history_events" in e.sql]
    task = started["eager_workflow_task"]
    assert task is not None and task["total_history_events"] == 2
    assert len(task["history_events"]) == min(2, page_size)
    assert (task["next_history_page_token"] is not None) == (page_size == 1)
    await _assert_same_as_read(engine, task, page_size)


async def test_a_start_handed_through_the_claim_answers_the_page_a_read_returns(engine: Engine) -> None:
    """A start whose first task goes in ready is claimed by the poll's path in the same
    transaction (``eager.hand_ready_task``): its page is answered from the kept rows too."""
    driver = Driver(engine)
    # A blank-but-not-empty build id (a tab) leaves the worker's drain unknown to the start's
    # read, so its first task goes in ready and the claim leases it (workers/registry.py).
    await driver.register("w-tab", build_id="\t", **TYPES)
    with StatementLog(engine.store) as log:
        started = await driver.start("claimed", args=[MEMO], memo=MEMO, eager_worker_id="w-tab")
    callers = {entry.caller for entry in log.entries}
    assert "engine/workflow_tasks/claims:lease" in callers
    assert not [e for e in log.entries if e.sql.startswith("SELECT") and "FROM history_events" in e.sql]
    task = started["eager_workflow_task"]
    assert task is not None and task["lease_owner"] == "w-tab"
    await _assert_same_as_read(engine, task, engine.settings.history_page_size_default)


@pytest.mark.parametrize("sticky", [False, True])
async def test_an_activity_completions_next_task_page_is_the_page_a_read_returns(
    engine: Engine, sticky: bool
) -> None:
    driver = Driver(engine)
    await driver.register("w1", **TYPES)
    first = (await driver.start("wf", args=[MEMO], memo=MEMO, eager_worker_id="w1"))["eager_workflow_task"]
    assert first is not None
    done = await driver.complete_wf(first, [activity("greet", [MEMO])], eager_activity_slots=1, sticky=sticky)
    (act,) = done["eager_activity_tasks"]
    answer = await driver.complete_act(act, MEMO, eager_workflow_task=True)
    task = answer["eager_workflow_task"]
    assert task is not None
    assert ("history_after_sequence" in task) is sticky
    await _assert_same_as_read(engine, task, engine.settings.history_page_size_default)


async def test_a_page_of_a_run_with_pending_rows_is_read(make_engine: EngineFactory) -> None:
    """Rows appended but not inserted yet are not among those kept: the page is read instead."""
    engine = await make_engine()
    driver = Driver(engine)
    started = await driver.start("pending")
    run_id = started["run_id"]
    async for txn in engine._tx():
        async with txn as tx:
            run = await load_run(tx, run_id, lock=True)
            assert run is not None
            history_rows.keep(tx, run_id)
            await history_rows.append(tx, run, [("SignalReceived", {"n": 1})], write_run=False)
            await history_rows.append(tx, run, [("SignalReceived", {"n": 2})], write_run=False, defer=True)
            with StatementLog(engine.store) as log:
                page = await history_page(tx, run, after=2, page_size=10)
            assert [e["payload"] for e in page["history_events"]] == [{"n": 1}, {"n": 2}]
            assert [e for e in log.entries if "FROM history_events" in e.sql]
            with StatementLog(engine.store) as log:
                again = await history_page(tx, run, after=2, page_size=10)
            assert again == page and not log.entries  # now all inserted, and kept
            older = await history_page(tx, run, after=0, page_size=10)
            assert len(older["history_events"]) == 4  # the start's events are not kept: read
