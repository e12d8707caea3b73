"""The task-queue pages through the real app on a real SQLite file: backlog and pollers, build-id
cohorts drained and resumed from the page (a POST without its CSRF token changes nothing)."""

from __future__ import annotations

import httpx
import pytest

from durable_workflow import Client
from tests.helpers.ui import csrf_of


@pytest.fixture
def browser(signed_in: httpx.AsyncClient) -> httpx.AsyncClient:
    return signed_in


@pytest.fixture
async def client(sdk: Client) -> Client:
    await sdk.register_worker(
        worker_id="ui-worker-b1", task_queue="ui-tq", supported_workflow_types=["Order"], build_id="b1"
    )
    await sdk.start_workflow(workflow_type="Order", workflow_id="ui-tq-1", task_queue="ui-tq")
    return sdk


async def test_the_list_shows_backlog_and_pollers(client: Client, browser: httpx.AsyncClient) -> None:
    page = await browser.get("/task-queues")
    assert page.status_code == 200 and "/task-queue?name=ui-tq" in page.text
    row = page.text.split("/task-queue?name=ui-tq", 1)[1].split("</tr>", 1)[0]
    assert "<td>1</td>" in row, "one workflow task waiting"
    detail = await browser.get("/task-queue?name=ui-tq")
    assert detail.status_code == 200 and "ui-worker-b1" in detail.text and "b1" in detail.text


async def test_drain_and_resume_a_build_id_from_the_page(client: Client, browser: httpx.AsyncClient) -> None:
    page = await browser.get("/task-queue?name=ui-tq")
    form = {"csrf": csrf_of(page.text), "name": "ui-tq", "build_id": "b1"}
    assert (await browser.post("/task-queue/drain", data={**form, "csrf": ""})).status_code == 403
    assert (await client.list_task_queue_build_ids("ui-tq")).build_ids[0].drain_intent == "active"

    drained = await browser.post("/task-queue/drain", data=form)
    assert drained.status_code == 303 and drained.headers["location"] == "/task-queue?name=ui-tq"
    assert (await client.list_task_queue_build_ids("ui-tq")).build_ids[0].drain_intent == "draining"
    assert ">Resume</button>" in (await browser.get("/task-queue?name=ui-tq")).text

    assert (await browser.post("/task-queue/resume", data=form)).status_code == 303
    assert (await client.list_task_queue_build_ids("ui-tq")).build_ids[0].drain_intent == "active"
