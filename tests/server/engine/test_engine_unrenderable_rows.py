"""Stored rows that cannot be rendered as JSON (written by an older build) fail only themselves.

The rows are written straight into the database, as an older build that accepted ``NaN`` or an
unpaired surrogate would have left them. PostgreSQL's ``json`` type refuses ``NaN`` but keeps a
``"\\udcff"`` escape; SQLite keeps both.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow_server.engine.errors import DomainError
from tests.server.engine.engine_driver import NS, Driver, activity

SURROGATE = r'{"a": "\udcff"}'
NOT_A_NUMBER = '{"a": NaN}'


async def _poison(driver: Driver, sql: str, **params: Any) -> None:
    async with driver.engine.store.write() as conn:
        await conn.execute(sa.text(sql), params)


async def _poisoned_run(driver: Driver, column: str, raw: str, workflow_id: str = "wf-1") -> str:
    started = await driver.start(workflow_id=workflow_id)
    # The raw JSON text goes into the SQL itself: bound as a parameter it would be a JSON string.
    await _poison(
        driver, f"UPDATE workflow_runs SET {column} = '{raw}' WHERE run_id = :r", r=started["run_id"]
    )
    return str(started["run_id"])


async def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as err:
        await call
    assert err.value.reason == "server_error"
    return err.value


async def test_describe_names_the_field_it_cannot_render(driver: Driver) -> None:
    run_id = await _poisoned_run(driver, "memo", SURROGATE)
    err = await _refused(driver.engine.describe_run(NS, "wf-1", run_id))
    assert err.extra["unrenderable_fields"] == ["memo"] and err.extra["run_id"] == run_id
    assert "cannot be rendered" in err.message
    await _refused(driver.engine.describe_workflow(NS, "wf-1"))


async def test_one_bad_row_does_not_fail_the_list(driver: Driver) -> None:
    await driver.start(workflow_id="good")
    bad_run = await _poisoned_run(driver, "search_attributes", SURROGATE, workflow_id="bad")
    page = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=10, next_page_token=None
    )
    rows = {row["workflow_id"]: row for row in page["workflows"]}
    assert set(rows) == {"good", "bad"} and page["workflow_count"] == 2
    assert rows["bad"]["run_id"] == bad_run and rows["bad"]["search_attributes"] is None
    assert rows["bad"]["render_error"]["fields"] == ["search_attributes"]
    assert "render_error" not in rows["good"] and rows["good"]["search_attributes"] == {}


async def test_history_and_export_of_a_run_with_a_bad_event_answer_a_clear_error(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    await _poison(
        driver,
        f"UPDATE history_events SET payload = '{SURROGATE}' WHERE run_id = :r AND sequence = 3",
        r=started["run_id"],
    )
    history = driver.engine.history_page(
        NS, "wf-1", started["run_id"], page_size=10, next_page_token=None, wait_new_event=False
    )
    assert (await _refused(history)).extra["unrenderable_fields"] == ["history event 3"]
    exported = await _refused(driver.engine.export_history(NS, "wf-1", started["run_id"]))
    assert exported.extra["unrenderable_fields"] == ["history event 3"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL's json refuses NaN
async def test_a_stored_nan_is_reported_like_a_surrogate(driver: Driver) -> None:
    run_id = await _poisoned_run(driver, "search_attributes", NOT_A_NUMBER)
    err = await _refused(driver.engine.describe_run(NS, "wf-1", run_id))
    assert err.extra["unrenderable_fields"] == ["search_attributes"]
    page = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=10, next_page_token=None
    )
    assert page["workflows"][0]["render_error"]["fields"] == ["search_attributes"]


async def test_a_workflow_task_that_cannot_be_rendered_is_set_aside_and_the_queue_moves_on(
    driver: Driver,
) -> None:
    await driver.register()
    bad = await driver.start(workflow_id="bad")
    good = await driver.start(workflow_id="good")
    await _poison(
        driver,
        f"UPDATE history_events SET payload = '{SURROGATE}' WHERE run_id = :r AND sequence = 2",
        r=bad["run_id"],
    )
    task = await driver.poll_wf()
    assert task is not None and task["workflow_id"] == "good" and task["run_id"] == good["run_id"]
    async with driver.engine.store.read() as conn:
        status = (
            await conn.execute(
                sa.text("SELECT status FROM workflow_tasks WHERE run_id = :r"), {"r": bad["run_id"]}
            )
        ).scalar_one()
    assert status == "failed"
    assert await driver.poll_wf() is None  # the set-aside task is not offered again
