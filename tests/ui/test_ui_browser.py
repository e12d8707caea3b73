"""The web UI in a real browser: headless Chromium (Debian's package) through Playwright, against
`dw server:start-dev` on a real socket. Screenshots of each page go to ``$DW_UI_ARTIFACTS``
(default ``<tmp>/ui-screenshots``) as test artefacts."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow
from durable_workflow.protocol.payload_storage import LocalFilesystemExternalStorage
from tests.helpers.server_process import ServerProcess, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "ui-browser-token"

# Outside CI a machine without chromium skips these with one line; in CI they must run.
_IN_CI = os.environ.get("CI", "").lower() in ("1", "true")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not _IN_CI,
    reason="no chromium on PATH: scripts/test installs Debian's chromium package",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("ui") / "ui.sqlite3"
    process = ServerProcess(free_port(), db, token=TOKEN).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("DW_UI_ARTIFACTS") or tmp_path_factory.mktemp("ui-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def signed_in_page(chromium: Any, server: ServerProcess, next_path: str, landing: str) -> Any:
    """A new page signed in through the login form, landed on ``next_path`` (``landing`` its URL pattern)."""
    page = chromium.new_page()
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(landing)
    return page


def start(server: ServerProcess, workflow_id: str, workflow_type: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    body = {"workflow_id": workflow_id, "workflow_type": workflow_type, "task_queue": "ui-browser"}
    answer = httpx.post(f"{server.url}/api/workflows", json=body, headers=headers, timeout=10)
    assert answer.status_code in (200, 201), answer.text


def test_sign_in_open_the_list_and_filter_it(server: ServerProcess, chromium: Any, artifacts: Path) -> None:
    start(server, "browser-order-1", "OrderWorkflow")
    start(server, "browser-invoice-1", "InvoiceWorkflow")
    page = chromium.new_page()
    page.goto(f"{server.url}/workflows")
    assert page.url.startswith(f"{server.url}/login"), "an unauthenticated page redirects to the login page"
    page.screenshot(path=str(artifacts / "login.png"), full_page=True)

    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text() == "That token is not valid."

    page.fill("input[name=token]", TOKEN)
    page.keyboard.press("Enter")  # usable with the keyboard
    page.wait_for_url(f"{server.url}/workflows")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 2
    assert "browser-order-1" in page.inner_text("table.list")
    page.screenshot(path=str(artifacts / "workflows.png"), full_page=True)

    start(server, "browser-late-1", "OrderWorkflow")  # live refresh: it appears without a reload
    page.locator("table.list", has_text="browser-late-1").wait_for(timeout=15_000)
    assert rows.count() == 3

    page.fill("input[name=type]", "InvoiceWorkflow")
    page.click("form.filters button")
    page.wait_for_url("**type=InvoiceWorkflow**")
    assert rows.count() == 1 and "browser-invoice-1" in rows.first.inner_text()
    page.select_option("select[name=status]", "completed")
    page.click("form.filters button")
    page.wait_for_url("**status=completed**")
    assert page.inner_text("table.list tbody") == "No workflows match."
    page.screenshot(path=str(artifacts / "workflows-filtered.png"), full_page=True)

    page.click("header form.logout button")
    page.wait_for_url(f"{server.url}/login")
    page.goto(f"{server.url}/workflows")
    assert page.url.startswith(f"{server.url}/login"), "signed out: the session cookie is gone"
    page.close()


def test_open_a_workflow_signal_it_and_cancel_it_with_the_confirm_step(
    server: ServerProcess, chromium: Any, artifacts: Path
) -> None:
    start(server, "browser-signal-1", "OrderWorkflow")
    page = signed_in_page(chromium, server, "/workflows", f"{server.url}/workflows")
    page.click("text=browser-signal-1")
    page.wait_for_url("**/workflow?id=browser-signal-1**")
    assert "WorkflowStarted" in page.inner_text("#history")

    page.fill("form.signal input[name=name]", "approve")
    page.fill("form.signal input[name=input]", '["yes"]')
    page.click("form.signal button")
    page.wait_for_load_state()
    assert "SignalReceived" in page.inner_text("#history"), "the signal appears in the timeline"
    page.screenshot(path=str(artifacts / "workflow.png"), full_page=True)

    page.click("text=Cancel…")
    page.wait_for_selector("text=Yes, cancel it")
    page.screenshot(path=str(artifacts / "confirm-cancel.png"), full_page=True)
    page.fill("input[name=reason]", "from the browser")
    page.click("text=Yes, cancel it")
    page.wait_for_url("**/workflow?id=browser-signal-1**")
    assert page.inner_text("h1 .status") == "cancelled"
    assert "WorkflowCancelled" in page.inner_text("#history")
    page.close()


def test_pause_and_resume_a_schedule(server: ServerProcess, chromium: Any, artifacts: Path) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    body = {
        "schedule_id": "browser-nightly",
        "spec": {"cron_expressions": ["0 3 * * *"], "timezone": "UTC"},
        "action": {"workflow_type": "NightlyReport", "task_queue": "ui-browser"},
    }
    created = httpx.post(f"{server.url}/api/schedules", json=body, headers=headers, timeout=10)
    assert created.status_code in (200, 201), created.text
    page = signed_in_page(chromium, server, "/schedules", f"{server.url}/schedules")
    page.screenshot(path=str(artifacts / "schedules.png"), full_page=True)
    page.click("text=browser-nightly")
    page.wait_for_url("**/schedule?id=browser-nightly")
    assert page.inner_text("h1 .status") == "active"

    page.fill("input[name=note]", "paused from the browser")
    page.click("text=Pause")
    page.wait_for_selector("text=Resume")
    assert page.inner_text("h1 .status") == "paused"
    assert "SchedulePaused" in page.inner_text("#audit")
    page.screenshot(path=str(artifacts / "schedule-paused.png"), full_page=True)

    page.click("text=Resume")
    page.wait_for_selector("button:text('Pause')")
    assert page.inner_text("h1 .status") == "active"
    assert "ScheduleResumed" in page.inner_text("#audit")
    page.close()


def test_backfill_a_schedule_and_see_its_next_fires(
    server: ServerProcess, chromium: Any, artifacts: Path
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    body = {
        "schedule_id": "browser-hourly",
        "spec": {"intervals": [{"every": "PT1H"}]},
        "action": {"workflow_type": "HourlyReport", "task_queue": "ui-browser"},
    }
    created = httpx.post(f"{server.url}/api/schedules", json=body, headers=headers, timeout=10)
    assert created.status_code in (200, 201), created.text
    page = signed_in_page(chromium, server, "/schedule?id=browser-hourly", "**/schedule?id=browser-hourly")
    assert page.locator("#upcoming li time").count() == 5, "the next five fires"
    page.screenshot(path=str(artifacts / "schedule.png"), full_page=True)

    page.fill("#backfill input[name=start_time]", "2026-01-01T00:00")
    page.fill("#backfill input[name=end_time]", "2026-01-01T04:00")
    page.select_option("#backfill select[name=overlap_policy]", "allow_all")
    page.click("#backfill button")
    page.wait_for_url("**/schedule/backfill")
    assert page.inner_text("h1").startswith("Backfill") and "4 fires attempted" in page.inner_text("h1")
    assert page.locator("#backfill-results .status-started").count() == 4
    page.screenshot(path=str(artifacts / "schedule-backfill.png"), full_page=True)
    page.close()


def test_every_page_renders_in_the_browser(server: ServerProcess, chromium: Any, artifacts: Path) -> None:
    start(server, "browser-pages-1", "OrderWorkflow")
    worker_headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Protocol-Version": "1.1"}
    registration = {
        "worker_id": "browser-worker-1",
        "task_queue": "ui-browser",
        "runtime": "python",
        "build_id": "b1",
        "supported_workflow_types": ["OrderWorkflow"],
    }
    registered = httpx.post(
        f"{server.url}/api/worker/register", json=registration, headers=worker_headers, timeout=10
    )
    assert registered.status_code in (200, 201), registered.text
    page = signed_in_page(chromium, server, "/task-queues", f"{server.url}/task-queues")
    for path, heading, shot in [
        ("/task-queues", "Task queues", "task-queues"),
        ("/task-queue?name=ui-browser", "ui-browser", "task-queue"),
        ("/workers", "Workers", "workers"),
        ("/worker?id=browser-worker-1", "browser-worker-1", "worker"),
        ("/namespaces", "Namespaces", "namespaces"),
        ("/namespace?name=default", "default", "namespace"),
    ]:
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None and answer.status == 200, path
        assert page.inner_text("h1").startswith(heading), path
        page.screenshot(path=str(artifacts / f"{shot}.png"), full_page=True)
    missing = page.goto(f"{server.url}/no/such/page")
    assert missing is not None and missing.status == 404
    assert page.inner_text("h1") == "Not found" and page.locator("header nav").count() == 1
    page.screenshot(path=str(artifacts / "not-found.png"), full_page=True)
    page.close()


@workflow.defn(name="UiLongHistory")
class UiLongHistory:
    def run(self, ctx: Any, count: int) -> Any:
        total = 0
        for i in range(count):
            total += yield ctx.side_effect(lambda i=i: i)
        return total


async def _run_long_history(url: str, workflow_id: str, count: int) -> None:
    async with Client(url, token=TOKEN) as client:
        await client.start_workflow(
            workflow_type="UiLongHistory", workflow_id=workflow_id, task_queue="ui-long", input=[count]
        )
        worker = Worker(client, task_queue="ui-long", workflows=[UiLongHistory])
        await worker.run_until(workflow_id=workflow_id, timeout=120)
        assert (await client.describe_workflow(workflow_id)).status == "completed"


def test_a_workflow_with_10000_events_opens_without_freezing(
    server: ServerProcess, chromium: Any, artifacts: Path
) -> None:
    # Playwright's sync API owns this thread's event loop: the worker runs on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _run_long_history(server.url, "browser-long-1", 10_000)).result(timeout=180)
    page = signed_in_page(chromium, server, "/workflows", f"{server.url}/workflows")
    page.goto(f"{server.url}/workflow?id=browser-long-1")
    # The history is paged: the first page of events and a link to the next, not 10,000 at once.
    assert page.locator("#history li").count() == 200
    assert page.locator("a.next", has_text="Next events").count() == 1
    paint = page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime ?? null"
    )
    # A figure for the record, not a timed assertion (timings never decide a test here).
    (artifacts / "long-history-first-paint.txt").write_text(f"first contentful paint: {paint} ms\n")
    print(f"10,000-event workflow page: first contentful paint {paint} ms")
    page.screenshot(path=str(artifacts / "long-history.png"))
    page.click("a.next")
    page.wait_for_url("**page=**")
    assert page.locator("#history li").count() == 200
    assert page.locator("#history li .seq").first.inner_text() == "201"
    page.close()


@activity.defn(name="ui_browser_charge")
async def ui_browser_charge(amount: int) -> str:
    raise RuntimeError(f"card declined for {amount}")


@workflow.defn(name="UiBrowserCheckout")
class UiBrowserCheckout:
    def run(self, ctx: Any, amount: int) -> Any:
        policy = ActivityRetryPolicy(max_attempts=2, initial_interval_seconds=0)
        return (yield ctx.schedule_activity("ui_browser_charge", [amount], retry_policy=policy))


async def _run_failing_checkout(url: str, workflow_id: str) -> None:
    async with Client(url, token=TOKEN) as client:
        await client.start_workflow(
            workflow_type="UiBrowserCheckout", workflow_id=workflow_id, task_queue="ui-fail", input=[42]
        )
        worker = Worker(
            client, task_queue="ui-fail", workflows=[UiBrowserCheckout], activities=[ui_browser_charge]
        )
        await worker.run_until(workflow_id=workflow_id, timeout=60)


def test_open_a_failed_workflow_and_see_the_failure_and_its_attempts(
    server: ServerProcess, chromium: Any, artifacts: Path
) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _run_failing_checkout(server.url, "browser-failed-1")).result(timeout=90)
    page = signed_in_page(chromium, server, "/workflows%3Fstatus%3Dfailed", "**/workflows?status=failed")
    page.click("text=browser-failed-1")
    page.wait_for_url("**/workflow?id=browser-failed-1**")
    assert page.inner_text("h1 .status") == "failed"
    history = page.inner_text("#history")
    assert history.count("card declined for 42") >= 2, "each attempt's failure"
    assert "ActivityRetryScheduled" in history and "WorkflowFailed" in history
    page.screenshot(path=str(artifacts / "workflow-failed.png"), full_page=True)
    page.close()


@workflow.defn(name="UiBrowserApproval")
class UiBrowserApproval:
    def __init__(self) -> None:
        self.approved = False

    @workflow.query("status")
    def status(self) -> dict[str, Any]:
        return {"approved": self.approved}

    @workflow.update("set_approval")
    def set_approval(self, approved: bool) -> dict[str, Any]:
        self.approved = approved
        return {"approved": self.approved}

    def run(self, ctx: Any, document: str) -> Any:
        yield ctx.wait_condition(lambda: self.approved, key="approved")
        return {"approved": self.approved, "length": len(document)}


def _wait_for_event(server: ServerProcess, workflow_id: str, run_id: str, event_type: str) -> None:
    """Follow the run's history with the server's long poll until ``event_type`` is recorded."""
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    token: str | None = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        params = {"wait_new_event": "1", **({"next_page_token": token} if token else {})}
        path = f"{server.url}/api/workflows/{workflow_id}/runs/{run_id}/history"
        page = httpx.get(path, params=params, headers=headers, timeout=30).json()
        if any(event["event_type"] == event_type for event in page["events"]):
            return
        token = page["next_page_token"] or token
    raise AssertionError(f"{event_type} never recorded")


async def _serve_approval(
    server: ServerProcess, workflow_id: str, document: str, root: Path, ready: Any, stop: Any
) -> None:
    """Start the run (its input over the namespace's threshold) and serve its queue until ``stop``."""
    # The worker reads the run's input from the namespace's storage, as the server wrote it.
    async with Client(
        server.url, token=TOKEN, external_storage=LocalFilesystemExternalStorage(root)
    ) as client:
        await client.set_namespace_external_storage(
            "default", driver="local", enabled=True, threshold_bytes=1024, config={"uri": root.as_uri()}
        )
        handle = await client.start_workflow(
            workflow_type="UiBrowserApproval", workflow_id=workflow_id, task_queue="ui-ops", input=[document]
        )
        worker = Worker(client, task_queue="ui-ops", workflows=[UiBrowserApproval])
        running = asyncio.create_task(worker.run())
        try:
            await asyncio.to_thread(
                _wait_for_event, server, workflow_id, handle.run_id, "ConditionWaitOpened"
            )
            ready.set()
            await asyncio.to_thread(stop.wait, 120)
        finally:
            await worker.stop()
            await running
            await client.set_namespace_external_storage("default", driver="local", enabled=False)


def test_query_update_and_resolve_an_external_payload_from_the_workflow_page(
    server: ServerProcess, chromium: Any, artifacts: Path, tmp_path: Path
) -> None:
    document = "browser document " * 200  # over the namespace's 1 KiB threshold: stored externally
    ready, stop = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        serving = pool.submit(
            asyncio.run,
            _serve_approval(server, "browser-approval-1", document, tmp_path / "ext", ready, stop),
        )
        try:
            assert ready.wait(60), "the run is waiting and its worker is live"
            page = signed_in_page(chromium, server, "/workflows", f"{server.url}/workflows")
            page.goto(f"{server.url}/workflow?id=browser-approval-1")
            assert document not in page.content(), "the input is shown by reference, not fetched"
            page.locator("a[data-resolve]").first.click()
            resolved = page.locator("pre.resolved").first
            resolved.wait_for(timeout=15_000)
            assert document.strip() in resolved.inner_text(), "fetched on demand and shown in place"
            page.screenshot(path=str(artifacts / "workflow-resolved-payload.png"), full_page=True)

            page.fill("form.query input[name=name]", "status")
            page.click("form.query button")
            page.wait_for_selector("#outcome")
            assert '"approved": false' in page.inner_text("#outcome-result")
            page.screenshot(path=str(artifacts / "workflow-query.png"), full_page=True)

            page.fill("form.update input[name=name]", "set_approval")
            page.fill("form.update input[name=input]", "[true]")
            page.click("form.update button")
            page.wait_for_selector("#outcome")
            assert "completed" in page.inner_text("#outcome h2")
            assert '"approved": true' in page.inner_text("#outcome-result")
            page.screenshot(path=str(artifacts / "workflow-update.png"), full_page=True)
            page.close()
        finally:
            stop.set()
            serving.result(timeout=60)
