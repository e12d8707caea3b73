"""Queries and updates across two server processes sharing PostgreSQL (wake-ups by NOTIFY only).

The caller waits on one engine, the worker polls and answers on the other; both re-probe only
every 600 s, so each hand-over within the 20 s bound went through ``LISTEN``/``NOTIFY``.
Collected only with ``DW_TEST_POSTGRES_URL`` (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import UpdateRequest
from durable_workflow_server.engine.queries.broker import poll_key
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.settings import Settings
from tests.helpers.dbmatrix import fresh_postgres_url
from tests.server.engine.engine_driver import NS, Driver, parked

SLOW, WITHIN = 600.0, 20.0


@pytest.fixture
async def pair(request: pytest.FixtureRequest, clock: Any) -> Any:
    settings = Settings(
        database_url=fresh_postgres_url(request),
        poll_reprobe_interval=SLOW,
        timer_loop_interval=SLOW,
        query_task_timeout=SLOW,
        clock=clock,
    )
    engines = [Engine(settings) for _ in range(2)]
    for engine in engines:
        await engine.open()
    yield engines
    for engine in engines:
        await engine.close()


async def test_a_query_asked_on_one_process_is_answered_by_a_worker_on_the_other(pair: list[Engine]) -> None:
    a, b = pair
    worker = Driver(b)
    await worker.register_query_worker()
    await worker.start()
    polling = asyncio.ensure_future(b.poll_query_task(NS, worker_id="w1", task_queue="q1", timeout=SLOW))
    await parked(b, poll_key(NS, "q1"))
    asking = asyncio.ensure_future(a.query_workflow(NS, "wf-1", "status"))
    task = await asyncio.wait_for(polling, WITHIN)
    assert task is not None and task["query_name"] == "status"
    await b.complete_query_task(
        NS, task["query_task_id"], lease_owner="w1", query_task_attempt=1, result="fine", result_envelope=None
    )
    assert (await asyncio.wait_for(asking, WITHIN))["result"] == "fine"


async def test_an_update_awaited_on_one_process_completes_on_the_other(pair: list[Engine]) -> None:
    a, b = pair
    worker = Driver(b)
    await worker.register()
    await worker.start()
    first = await worker.poll_wf()
    assert first is not None
    await worker.complete_wf(first, [{"type": "open_condition_wait", "condition_key": "k"}])
    request = UpdateRequest(
        workflow_id="wf-1",
        update_name="set",
        arguments=codec.envelope([1]),
        wait_for="completed",
        wait_timeout_seconds=60,
    )
    asking = asyncio.ensure_future(a.update_workflow(NS, request))
    task = await asyncio.wait_for(worker.poll_wf(timeout=SLOW), WITHIN)
    assert task is not None and task["workflow_update_id"]
    result = {"type": "complete_update", "update_id": task["workflow_update_id"], "result": codec.envelope(7)}
    await worker.complete_wf(task, [result])
    done = await asyncio.wait_for(asking, WITHIN)
    assert (done["update_status"], done["result"]) == ("completed", 7)
