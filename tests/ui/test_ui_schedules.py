"""The schedule pages through the real app on a real SQLite file: list, detail with the audit
history, pause / resume / trigger from the page; a POST without its CSRF token changes nothing."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

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


async def test_the_next_fires_are_the_engines_plan(client: Client, browser: httpx.AsyncClient) -> None:
    page = (await browser.get("/schedule?id=ui-hourly")).text
    upcoming = page.split('id="upcoming">', 1)[1].split("</ol>", 1)[0]
    fires = re.findall(r"<time>([^<]+)</time>", upcoming)
    described = await client.describe_schedule("ui-hourly")
    assert len(fires) == 5 and fires[0] == described.next_fire_at
    moments = [datetime.fromisoformat(f.replace("Z", "+00:00")) for f in fires]
    assert all(later - earlier == timedelta(hours=1) for earlier, later in itertools.pairwise(moments))
    await browser.post("/schedule/pause", data={"csrf": csrf_of(page), "id": "ui-hourly"})
    paused = (await browser.get("/schedule?id=ui-hourly")).text
    assert "None while paused." in paused.split('id="upcoming">', 1)[1].split("</ol>", 1)[0]


async def test_backfill_from_the_page_shows_each_fire_and_the_refusals(
    client: Client, browser: httpx.AsyncClient
) -> None:
    page = (await browser.get("/schedule?id=ui-hourly")).text
    assert 'action="/schedule/backfill"' in page and '<option value="allow_all">' in page
    form = {"csrf": csrf_of(page), "id": "ui-hourly", "overlap_policy": "allow_all"}
    window = {"start_time": "2026-01-01T00:00", "end_time": "2026-01-01T03:00"}
    assert (await browser.post("/schedule/backfill", data={**form, **window, "csrf": ""})).status_code == 403
    assert (await client.describe_schedule("ui-hourly")).fires_count == 0

    done = await browser.post("/schedule/backfill", data={**form, **window})
    assert done.status_code == 200 and "3 fires attempted" in done.text
    rows = done.text.split('id="backfill-results"', 1)[1].split("</tbody>", 1)[0]
    assert rows.count("status-started") == 3
    for hour in ("00", "01", "02"):
        assert f"2026-01-01T{hour}:00:00.000000Z" in rows
    assert (await client.describe_schedule("ui-hourly")).fires_count == 3

    backwards = await browser.post(
        "/schedule/backfill", data={**form, "start_time": "2026-01-02T00:00", "end_time": "2026-01-01T00:00"}
    )
    assert backwards.status_code == 422 and "invalid_time_range" in backwards.text
    unreadable = await browser.post("/schedule/backfill", data={**form, "start_time": "soon", "end_time": ""})
    assert unreadable.status_code == 422 and "start_time" in unreadable.text and "end_time" in unreadable.text
    bad_policy = await browser.post(
        "/schedule/backfill", data={**form, **window, "overlap_policy": "sometimes"}
    )
    assert bad_policy.status_code == 422 and "overlap_policy" in bad_policy.text
    missing = await browser.post("/schedule/backfill", data={**form, **window, "id": "nope"})
    assert missing.status_code == 404 and "schedule_not_found" in missing.text
    assert (await client.describe_schedule("ui-hourly")).fires_count == 3, "the refusals fired nothing"
