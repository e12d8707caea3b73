"""The blocking describe (``wait_workflow_closed``): woken by the run's close, never by polling.

The engines here re-probe only every ``NO_REPROBE`` seconds (conftest) and the waits last
``POLL_LONGER``, so a wait answered within ``WAKE_WITHIN`` was answered by the close's wake-up.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.runs.close_wait import close_key
from tests.helpers.statements import StatementLog
from tests.server.engine.engine_driver import NS, POLL_LONGER, WAKE_WITHIN, Driver, complete, parked

KEY = close_key(NS, "wf-1")


async def _waiting(driver: Driver, wait: float = POLL_LONGER) -> asyncio.Task[Any]:
    """Start a wait on wf-1 and return once it watches the instance's close key."""
    task = asyncio.ensure_future(driver.engine.wait_workflow_closed(NS, "wf-1", wait))
    await parked(driver.engine, KEY)
    return task


@pytest.fixture
async def driver(make_engine: Any) -> Driver:
    driver = Driver(await make_engine(long_poll_timeout=POLL_LONGER))
    await driver.register()
    return driver


async def test_a_wait_is_answered_by_the_runs_completion(driver: Driver) -> None:
    started = await driver.start()
    waiting = await _waiting(driver)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    body = await asyncio.wait_for(waiting, WAKE_WITHIN)
    assert body["run_id"] == started["run_id"]
    assert body["status"] == "completed" and body["is_terminal"] is True
    assert body["output"] == "done"
    assert driver.engine.waiters.watching(KEY) == 0


async def test_a_closed_run_is_answered_at_once_and_a_cancel_also_wakes(driver: Driver) -> None:
    await driver.start()
    waiting = await _waiting(driver)
    await driver.engine.cancel_workflow(NS, "wf-1", reason="stop")
    body = await asyncio.wait_for(waiting, WAKE_WITHIN)
    assert body["status"] == "cancelled"
    again = await asyncio.wait_for(driver.engine.wait_workflow_closed(NS, "wf-1", POLL_LONGER), WAKE_WITHIN)
    assert again["status"] == "cancelled"


async def test_the_wait_follows_continue_as_new_to_the_final_run(driver: Driver) -> None:
    first = await driver.start()
    waiting = await _waiting(driver)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "continue_as_new", "arguments": codec.envelope(["Bo"])}])
    second = await driver.poll_wf()
    assert second is not None and second["run_id"] != first["run_id"]
    # The first run's close woke the wait, which found the successor open and kept waiting.
    assert not waiting.done()
    await driver.complete_wf(second, [complete("last")])
    body = await asyncio.wait_for(waiting, WAKE_WITHIN)
    assert body["run_id"] == second["run_id"] and body["status"] == "completed"
    assert body["output"] == "last"


async def test_a_wait_that_runs_out_answers_the_open_run(make_engine: Any) -> None:
    driver = Driver(await make_engine(long_poll_timeout=0.2))  # the server's limit bounds the wait
    await driver.start()
    body = await asyncio.wait_for(driver.engine.wait_workflow_closed(NS, "wf-1", POLL_LONGER), WAKE_WITHIN)
    assert body["is_terminal"] is False and body["status"] == "pending"


async def test_stop_polling_answers_a_parked_wait_at_once(driver: Driver) -> None:
    await driver.start()
    waiting = await _waiting(driver)
    driver.engine.stop_polling()
    body = await asyncio.wait_for(waiting, WAKE_WITHIN)
    assert body["is_terminal"] is False
    # New waits during the shutdown answer at once too.
    late = await asyncio.wait_for(driver.engine.wait_workflow_closed(NS, "wf-1", POLL_LONGER), WAKE_WITHIN)
    assert late["is_terminal"] is False


async def test_an_unknown_instance_is_refused(driver: Driver) -> None:
    with pytest.raises(DomainError) as err:
        await driver.engine.wait_workflow_closed(NS, "nope", POLL_LONGER)
    assert err.value.reason == "instance_not_found"


async def test_a_close_in_this_process_hands_the_waiter_the_describe_a_read_returns(driver: Driver) -> None:
    """The waiter reads nothing after the close: its answer came with the wake-up, built from the
    run as the closing transaction left it, and is what a describe reads."""
    await driver.start(memo={"k": ["v", 1]}, business_key="bk-ü")
    waiting = await _waiting(driver)
    task = await driver.poll_wf()
    assert task is not None
    with StatementLog(driver.engine.store) as log:
        await driver.complete_wf(task, [complete({"out": ["ü", 2.5]})])
        body = await asyncio.wait_for(waiting, WAKE_WITHIN)
    assert "engine/control:_current_run" not in {entry.caller for entry in log.entries}
    assert body == await driver.engine.describe_workflow(NS, "wf-1")
    assert body["output"] == {"out": ["ü", 2.5]} and body["memo"] == {"k": ["v", 1]}
    assert driver.engine.waiters.watching(KEY) == 0 and not driver.engine.waiters._handed


async def test_a_cancel_and_a_continued_runs_final_close_hand_what_a_read_returns(driver: Driver) -> None:
    await driver.start()
    waiting = await _waiting(driver)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "continue_as_new", "arguments": codec.envelope(["Bo"])}])
    assert not waiting.done()  # the continued run's close handed nothing: the wait goes on
    with StatementLog(driver.engine.store) as log:
        await driver.engine.cancel_workflow(NS, "wf-1", reason="stop")
        body = await asyncio.wait_for(waiting, WAKE_WITHIN)
    if not driver.engine.store.notifies:
        # (With LISTEN/NOTIFY the continued close's notice may come back meanwhile and wake
        # the waiter once more, which then probes: only an extra read, never another answer.)
        assert "engine/control:_current_run" not in {entry.caller for entry in log.entries}
    assert body["status"] == "cancelled" and body["run_number"] == body["run_count"] == 2
    assert body == await driver.engine.describe_workflow(NS, "wf-1")
