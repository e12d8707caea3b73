"""The schedule pages through the real app on a real SQLite file: list, detail with the audit
history, pause / resume / trigger from the page; a POST without its CSRF token changes nothing."""

from __future__ import annotations

import httpx
import pytest

from durable_workflow import Client
from tests.helpers.ui import csrf_of

SPEC = {"intervals": [{"every": "PT1H"}]}
ACTION = {"workflow_type": "Report", "task_queue": "ui-q", "input": [{"period": "hourly"}]}


@pytest.fixture
def browser(signed_in: httpx.AsyncClient) -> httpx.AsyncClient:
    return signed_in


@pytest.fixture
async def client(sdk: Client) -> Client:
    await sdk.create_schedule(schedule_id="ui-hourly", spec=SPEC, action=ACTION)
    return sdk


async def test_the_list_and_the_detail_page(client: Client, browser: httpx.AsyncClient) -> None:
    listed = await browser.get("/schedules")
    assert listed.status_code == 200 and "/schedule?id=ui-hourly" in listed.text and "Report" in listed.text
    detail = await browser.get("/schedule?id=ui-hourly")
    assert detail.status_code == 200
    assert "PT1H" in detail.text and "&#34;period&#34;: &#34;hourly&#34;" in detail.text
    assert "ScheduleCreated" in detail.text, "the audit history"
    assert (await browser.get("/schedule?id=nope")).status_code == 404


async def test_pause_resume_and_trigger_from_the_page(client: Client, browser: httpx.AsyncClient) -> None:
    page = await browser.get("/schedule?id=ui-hourly")
    csrf = csrf_of(page.text)
    refused = await browser.post("/schedule/pause", data={"id": "ui-hourly"})
    assert refused.status_code == 403
    assert (await client.describe_schedule("ui-hourly")).paused is False

    paused = await browser.post(
        "/schedule/pause", data={"csrf": csrf, "id": "ui-hourly", "note": "maintenance"}
    )
    assert paused.status_code == 303 and paused.headers["location"] == "/schedule?id=ui-hourly"
    assert (await client.describe_schedule("ui-hourly")).paused is True
    shown = (await browser.get("/schedule?id=ui-hourly")).text
    assert "maintenance" in shown and ">Resume</button>" in shown

    assert (await browser.post("/schedule/resume", data={"csrf": csrf, "id": "ui-hourly"})).status_code == 303
    assert (await client.describe_schedule("ui-hourly")).paused is False

    assert (
        await browser.post("/schedule/trigger", data={"csrf": csrf, "id": "ui-hourly"})
    ).status_code == 303
    assert (await client.describe_schedule("ui-hourly")).fires_count == 1
    assert "ScheduleTriggered" in (await browser.get("/schedule?id=ui-hourly")).text
