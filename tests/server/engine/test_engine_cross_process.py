"""Cross-process wake-ups on PostgreSQL: two engines sharing one database, as two server processes.

Both engines re-probe and sweep only every 600 s here and long polls last as long, so a poll
parked on one engine can get the other's work within the tests' generous 20 s bound only through
``LISTEN``/``NOTIFY`` (a poll's last probe at its own timeout would find the work too, hence the
long timeout).
This module is collected only when ``DW_TEST_POSTGRES_URL`` is set (see ``conftest.py``): SQLite
has no notification channel. The payload handling itself is tested in ``test_engine_broadcast``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from durable_workflow_server.engine.runs.close_wait import close_key
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.settings import Settings
from durable_workflow_server.store.postgres import LISTENER_APPLICATION_NAME, PostgresStore, asyncpg_dsn
from tests.helpers.dbmatrix import fresh_postgres_url
from tests.server.engine.engine_driver import NS, Driver, activity, complete, parked, timer

SLOW = 600.0  # re-probe / background-loop interval and long-poll timeout: never reached
WITHIN = 20.0  # generous bound on a wake-up that takes milliseconds


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    return fresh_postgres_url(request)


@pytest.fixture
async def pair(pg_url: str, clock: Any) -> Any:
    settings = Settings(
        database_url=pg_url,
        poll_reprobe_interval=SLOW,
        timer_loop_interval=SLOW,
        workflow_task_retry_delay_seconds=0.0,
        clock=clock,
    )
    engines = [Engine(settings) for _ in range(2)]
    for engine in engines:
        await engine.open()
    yield engines
    for engine in engines:
        await engine.close()


async def _parked(driver: Driver, kind: str, coro: Any) -> asyncio.Task[Any]:
    """Start a long poll and return once it waits (it registered, probed, found nothing)."""
    task = asyncio.ensure_future(coro)
    await parked(driver.engine, (kind, NS, driver.queue))
    assert not task.done()
    return task


async def test_workflow_task_poll_on_one_process_gets_a_start_on_another(pair: list[Engine]) -> None:
    a, b = Driver(pair[0]), Driver(pair[1])
    await a.register()
    polled = await _parked(a, "workflow", a.poll_wf(timeout=SLOW))
    started = await b.start()
    task = await asyncio.wait_for(polled, WITHIN)
    assert task is not None
    assert task["run_id"] == started["run_id"]


async def test_activity_task_poll_on_one_process_gets_an_activity_scheduled_on_another(
    pair: list[Engine],
) -> None:
    a, b = Driver(pair[0]), Driver(pair[1])
    await b.register()
    await b.start()
    wf_task = await b.poll_wf()
    assert wf_task is not None
    polled = await _parked(a, "activity", a.poll_act(timeout=SLOW))
    await b.complete_wf(wf_task, [activity()])
    task = await asyncio.wait_for(polled, WITHIN)
    assert task is not None
    assert task["activity_type"] == "greet"


async def test_timer_scheduled_on_one_process_is_fired_by_the_other(pair: list[Engine], clock: Any) -> None:
    b = Driver(pair[1])
    await b.register()
    # Only engine A runs a background loop, so only A can fire the timer: it must learn of it
    # from B's notification (its own loop interval is 60 s).
    await pair[1]._loop.stop()
    started = await b.start()
    wf_task = await b.poll_wf()
    assert wf_task is not None
    await b.complete_wf(wf_task, [timer(1)])
    clock.advance(1)  # A sleeps at most the 1 s it computed before seeing the new time
    next_task = await asyncio.wait_for(b.poll_wf(timeout=SLOW), WITHIN)
    assert next_task is not None
    assert next_task["run_id"] == started["run_id"]
    assert "TimerFired" in await b.types("wf-1", started["run_id"])


async def _listener_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
            LISTENER_APPLICATION_NAME,
        )
        return [row["pid"] for row in rows]
    finally:
        await conn.close()


async def test_listener_reconnects_after_its_connection_is_terminated(
    pair: list[Engine], pg_url: str
) -> None:
    store = pair[0].store
    assert isinstance(store, PostgresStore)
    before = await _listener_pids(pg_url)
    assert len(before) == 2
    connects = store.listen_connects
    admin = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        for pid in before:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    for _ in range(500):  # reconnects after a 50 ms pause; bounded wait, no fixed sleep
        if store.listen_connects > connects:
            break
        await asyncio.sleep(0.01)
    assert store.listen_connects > connects
    after = await _listener_pids(pg_url)
    assert not set(after) & set(before)

    # The new listener delivers: a poll parked on A still gets work started on B.
    a, b = Driver(pair[0]), Driver(pair[1])
    await a.register()
    polled = await _parked(a, "workflow", a.poll_wf(timeout=SLOW))
    await b.start()
    assert await asyncio.wait_for(polled, WITHIN) is not None


async def test_resuming_on_one_process_wakes_pollers_of_both_task_kinds_on_another(
    pair: list[Engine],
) -> None:
    a, b = Driver(pair[0]), Driver(pair[1])
    await a.register()
    await b.start()
    wf_task = await b.poll_wf()
    assert wf_task is not None
    await b.complete_wf(wf_task, [activity()])
    await pair[1].pause_workflow(NS, "wf-1")
    polled_activity = await _parked(a, "activity", a.poll_act(timeout=SLOW))
    await pair[1].resume_workflow(NS, "wf-1")
    assert await asyncio.wait_for(polled_activity, WITHIN) is not None


async def test_a_signal_on_one_process_wakes_a_workflow_poll_on_another(pair: list[Engine]) -> None:
    from durable_workflow.protocol import codec
    from durable_workflow_server.engine.signals.receiving import SignalRequest

    a, b = Driver(pair[0]), Driver(pair[1])
    await a.register()
    await b.start()
    first = await b.poll_wf()
    assert first is not None
    await b.complete_wf(first, [timer(600)])
    polled = await _parked(a, "workflow", a.poll_wf(timeout=SLOW))
    envelope = codec.envelope([])
    await pair[1].signal_workflow(NS, SignalRequest("wf-1", "go", envelope["codec"], envelope["blob"]))
    task = await asyncio.wait_for(polled, WITHIN)
    assert task is not None and task["history_events"][-1]["event_type"] == "SignalReceived"


async def test_a_close_wait_on_one_process_is_woken_by_a_close_on_another(pair: list[Engine]) -> None:
    a, b = Driver(pair[0]), Driver(pair[1])
    await b.register()
    started = await b.start()
    waiting = asyncio.ensure_future(a.engine.wait_workflow_closed(NS, "wf-1", SLOW))
    await parked(a.engine, close_key(NS, "wf-1"))
    task = await b.poll_wf()
    assert task is not None
    await b.complete_wf(task, [complete("done")])
    body = await asyncio.wait_for(waiting, WITHIN)
    assert body["run_id"] == started["run_id"] and body["status"] == "completed"


async def test_a_store_tells_whether_another_process_listens(pg_url: str) -> None:
    stores = [PostgresStore(pg_url), PostgresStore(pg_url)]
    try:
        await stores[0].open()
        await stores[0].listen(lambda _payload: None)
        assert await stores[0].others_listening() is False  # its own listener does not count
        await stores[1].open()
        await stores[1].listen(lambda _payload: None)
        assert await stores[0].others_listening() is True
        assert await stores[1].others_listening() is True
    finally:
        for store in stores:
            await store.close()
