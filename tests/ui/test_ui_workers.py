"""The workers pages through the real app on a real SQLite file: every worker of the namespace
across its queues, filtered by queue and status as ``GET /workers`` filters, and one worker with
the leases it holds (its admission, from ``describe_worker``), deregistered by an admin only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from durable_workflow import Client
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app
from tests.helpers.ui import csrf_of, sign_in


@pytest.fixture
def browser(signed_in: httpx.AsyncClient) -> httpx.AsyncClient:
    return signed_in


@pytest.fixture
async def client(sdk: Client) -> Client:
    await sdk.register_worker(
        worker_id="ui-w-orders",
        task_queue="orders",
        sdk_version="9.9.1",
        build_id="b7",
        supported_workflow_types=["Order"],
        supported_activity_types=["charge"],
        max_concurrent_workflow_tasks=4,
        max_concurrent_activity_tasks=8,
    )
    await sdk.register_worker(worker_id="ui-w/mail", task_queue="mail", supported_workflow_types=["Mail"])
    await sdk.start_workflow(workflow_type="Order", workflow_id="ui-w-order-1", task_queue="orders")
    task = await sdk.poll_workflow_task(worker_id="ui-w-orders", task_queue="orders", timeout=5)
    assert task is not None, "the worker now holds the run's workflow task"
    return sdk


def row_of(page: str, worker_id_html: str) -> str:
    return page.split(f">{worker_id_html}</a>", 1)[1].split("</tr>", 1)[0]


async def test_the_list_shows_every_worker_across_queues(client: Client, browser: httpx.AsyncClient) -> None:
    page = await browser.get("/workers")
    assert page.status_code == 200
    assert 'href="/workers" aria-current="page"' in page.text, "linked in the nav"
    assert "/worker?id=ui-w-orders" in page.text and "/worker?id=ui-w%2Fmail" in page.text
    orders = row_of(page.text, "ui-w-orders")
    for shown in ("/task-queue?name=orders", "<td>b7</td>", "python 9.9.1", "active", "<td>4 / 8</td>"):
        assert shown in orders, shown
    assert "/task-queue?name=mail" in row_of(page.text, "ui-w/mail")

    by_queue = (await browser.get("/workers?task_queue=mail")).text
    assert "ui-w/mail" in by_queue and "ui-w-orders" not in by_queue
    stale = (await browser.get("/workers?status=stale")).text
    assert "ui-w-orders" not in stale and "under these filters" in stale
    bad = await browser.get("/workers?status=sleeping")
    assert bad.status_code == 422 and "status" in bad.text


async def test_a_worker_shows_the_leases_it_holds(client: Client, browser: httpx.AsyncClient) -> None:
    page = await browser.get("/worker?id=ui-w-orders")
    assert page.status_code == 200 and "b7" in page.text and "charge" in page.text
    admission = page.text.split('id="admission"', 1)[1].split("</table>", 1)[0]
    assert "<td>Workflow tasks</td><td>1</td><td>4</td><td>3</td>" in admission
    assert "<td>Activity tasks</td><td>0</td><td>8</td><td>8</td>" in admission
    other = await browser.get("/worker", params={"id": "ui-w/mail"})
    assert other.status_code == 200 and "<td>Workflow tasks</td><td>0</td>" in other.text
    missing = await browser.get("/worker?id=nope")
    assert missing.status_code == 404 and "worker_not_found" in missing.text
    assert (await browser.get("/worker")).status_code == 400


async def test_an_admin_deregisters_a_worker_from_its_page(
    client: Client, browser: httpx.AsyncClient
) -> None:
    page = await browser.get("/worker?id=ui-w-orders")
    assert 'action="/worker/deregister"' in page.text
    form = {"csrf": csrf_of(page.text), "id": "ui-w-orders"}
    assert (await browser.post("/worker/deregister", data={**form, "csrf": ""})).status_code == 403
    assert "ui-w-orders" in (await browser.get("/workers")).text

    gone = await browser.post("/worker/deregister", data=form)
    assert gone.status_code == 303 and gone.headers["location"] == "/workers"
    listed = (await browser.get("/workers")).text
    assert "ui-w-orders" not in listed and "ui-w/mail" in listed
    assert (await browser.get("/worker?id=ui-w-orders")).status_code == 404
    again = await browser.post("/worker/deregister", data=form)
    assert again.status_code == 303, "idempotent, as DELETE /workers/{id}"


async def test_an_operator_sees_workers_but_may_not_deregister(tmp_path: Path) -> None:
    settings = e2e_settings(
        f"sqlite:///{tmp_path / 'roles.sqlite3'}",
        auth_token=None,
        admin_token=TOKEN,
        operator_token="ui-w-operator",
        worker_token="ui-w-worker",
    )
    async with running_app(settings) as app:
        async with Client("http://testserver", token="ui-w-worker", asgi_app=app) as worker:
            await worker.register_worker(worker_id="ui-w-kept", task_queue="kept")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await sign_in(http, token="ui-w-operator")
            page = await http.get("/worker?id=ui-w-kept")
            assert page.status_code == 200 and "/worker/deregister" not in page.text
            refused = await http.post(
                "/worker/deregister", data={"csrf": csrf_of(page.text), "id": "ui-w-kept"}
            )
            assert refused.status_code == 403 and "admin credential" in refused.text
            assert "ui-w-kept" in (await http.get("/workers")).text
