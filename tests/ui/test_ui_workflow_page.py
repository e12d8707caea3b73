"""The workflow page through the real app on a real SQLite file: summary, history, signal,
and cancel/terminate with their confirm step; refused input changes nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any, cast
from urllib.parse import quote

import httpx
import pytest

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow
from durable_workflow.errors import ChildWorkflowFailed
from durable_workflow.protocol import codec
from durable_workflow_server.engine.shapes import HistoryExportBundle
from durable_workflow_server.ui.gantt import bars
from durable_workflow_server.ui.payloads import decoded
from tests.helpers.e2e_env import wait_for_event
from tests.helpers.ui import csrf_of


@pytest.fixture
def browser(signed_in: httpx.AsyncClient) -> httpx.AsyncClient:
    return signed_in


@pytest.fixture
def client(sdk: Client) -> Client:
    return sdk


async def history_types(client: Client, workflow_id: str) -> list[str]:
    described = await client.describe_workflow(workflow_id)
    page = await client.get_history(workflow_id, described.run_id)
    return [event["event_type"] for event in page["events"]]


async def test_the_page_shows_the_summary_and_the_history(client: Client, browser: httpx.AsyncClient) -> None:
    await client.start_workflow(
        workflow_type="Order", workflow_id="ui-order.1", task_queue="ui-q", input=[{"sku": "A-1"}]
    )
    listed = (await browser.get("/workflows")).text
    assert "/workflow?id=ui-order.1" in listed, "the list links each workflow"
    page = await browser.get("/workflow?id=ui-order.1")
    assert page.status_code == 200
    assert "Order" in page.text and "ui-q" in page.text and "WorkflowStarted" in page.text
    assert "&#34;sku&#34;: &#34;A-1&#34;" in page.text, "payloads are decoded and shown as JSON"


async def test_an_unknown_workflow_is_a_404_page(browser: httpx.AsyncClient) -> None:
    answer = await browser.get("/workflow?id=nope")
    assert answer.status_code == 404 and "instance_not_found" in answer.text


async def test_a_signal_sent_from_the_page_is_in_the_history(
    client: Client, browser: httpx.AsyncClient
) -> None:
    await client.start_workflow(workflow_type="Order", workflow_id="ui-sig", task_queue="ui-q")
    page = await browser.get("/workflow?id=ui-sig")
    form = {"csrf": csrf_of(page.text), "id": "ui-sig", "run": "", "name": "approve", "input": '["yes"]'}
    sent = await browser.post("/workflow/signal", data=form)
    assert sent.status_code == 303 and sent.headers["location"] == "/workflow?id=ui-sig"
    assert "SignalReceived" in await history_types(client, "ui-sig")
    assert "approve" in (await browser.get("/workflow?id=ui-sig")).text


async def test_a_bad_signal_input_or_a_missing_csrf_token_writes_nothing(
    client: Client, browser: httpx.AsyncClient
) -> None:
    await client.start_workflow(workflow_type="Order", workflow_id="ui-bad", task_queue="ui-q")
    before = await history_types(client, "ui-bad")
    page = await browser.get("/workflow?id=ui-bad")
    bad_json = {"csrf": csrf_of(page.text), "id": "ui-bad", "name": "approve", "input": "[not json"}
    answer = await browser.post("/workflow/signal", data=bad_json)
    assert answer.status_code == 422 and "The input is not JSON" in answer.text
    no_csrf = {"id": "ui-bad", "name": "approve", "input": "[]"}
    assert (await browser.post("/workflow/signal", data=no_csrf)).status_code == 403
    assert (await browser.post("/workflow/terminate", data={**no_csrf, "confirm": "yes"})).status_code == 403
    assert await history_types(client, "ui-bad") == before
    assert (await client.describe_workflow("ui-bad")).status == "pending"


@pytest.mark.parametrize(("action", "status"), [("cancel", "cancelled"), ("terminate", "terminated")])
async def test_cancel_and_terminate_take_a_confirm_step(
    client: Client, browser: httpx.AsyncClient, action: str, status: str
) -> None:
    workflow_id = f"ui-{action}"
    await client.start_workflow(workflow_type="Order", workflow_id=workflow_id, task_queue="ui-q")
    page = await browser.get(f"/workflow?id={workflow_id}")
    form = {"csrf": csrf_of(page.text), "id": workflow_id, "run": ""}
    confirm = await browser.post(f"/workflow/{action}", data=form)
    assert confirm.status_code == 200 and f"Yes, {action} it" in confirm.text
    assert (await client.describe_workflow(workflow_id)).status == "pending", "nothing happened yet"
    done = await browser.post(f"/workflow/{action}", data={**form, "confirm": "yes", "reason": "from the UI"})
    assert done.status_code == 303
    assert (await client.describe_workflow(workflow_id)).status == status
    again = await browser.post(f"/workflow/{action}", data={**form, "confirm": "yes"})
    assert again.status_code == 409 and "run_not_active" in again.text, "the engine's refusal, on the page"


def test_payloads_are_decoded_in_envelopes_and_beside_their_codec() -> None:

    blob = codec.encode(["yes"])
    event = {
        "payload_codec": "avro",
        "arguments": blob,
        "signal_name": "approve",
        "nested": [codec.envelope(3)],
    }
    assert decoded(event) == {
        "payload_codec": "avro",
        "arguments": ["yes"],
        "signal_name": "approve",
        "nested": [3],
    }
    assert decoded({"codec": "nope", "blob": "x"}) == "<undecodable nope payload: PayloadCodecError>"


@activity.defn(name="ui_charge_card")
async def ui_charge_card(amount: int) -> str:
    raise RuntimeError(f"card declined for {amount}")


@workflow.defn(name="UiCheckout")
class UiCheckout:
    def run(self, ctx: Any, amount: int) -> Any:
        policy = ActivityRetryPolicy(max_attempts=2, initial_interval_seconds=0)
        return (yield ctx.schedule_activity("ui_charge_card", [amount], retry_policy=policy))


async def test_a_failed_workflow_shows_its_failure_and_its_attempts(
    client: Client, browser: httpx.AsyncClient
) -> None:
    await client.start_workflow(
        workflow_type="UiCheckout", workflow_id="ui-fail", task_queue="ui-fail-q", input=[42]
    )
    worker = Worker(client, task_queue="ui-fail-q", workflows=[UiCheckout], activities=[ui_charge_card])
    await worker.run_until(workflow_id="ui-fail", timeout=30.0)
    failed = (await browser.get("/workflows?status=failed")).text
    assert "ui-fail" in failed
    page = (await browser.get("/workflow?id=ui-fail")).text
    assert 'class="status status-failed">failed<' in page
    assert page.count("card declined for 42") >= 2, "each attempt's failure is in the timeline"
    assert "<strong>ActivityRetryScheduled</strong>" in page, "the first attempt failed and was retried"
    assert page.count("<strong>ActivityStarted</strong>") == 2 and "<strong>ActivityFailed</strong>" in page
    assert "WorkflowFailed" in page


async def test_pause_and_resume_from_the_page_and_download_the_history(
    client: Client, browser: httpx.AsyncClient
) -> None:
    await client.start_workflow(workflow_type="Order", workflow_id="ui-pause", task_queue="ui-q")
    page = await browser.get("/workflow?id=ui-pause")
    form = {"csrf": csrf_of(page.text), "id": "ui-pause", "run": ""}
    assert (await browser.post("/workflow/pause", data={**form, "action": "pause"})).status_code == 303
    assert (await client.describe_workflow("ui-pause")).paused is True
    assert ">Resume</button>" in (await browser.get("/workflow?id=ui-pause")).text
    assert (await browser.post("/workflow/pause", data={**form, "action": "resume"})).status_code == 303
    assert (await client.describe_workflow("ui-pause")).paused is False

    run_id = (await client.describe_workflow("ui-pause")).run_id
    download = await browser.get(f"/workflow/export?id=ui-pause&run={run_id}")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment; filename*=UTF-8''ui-pause-")
    bundle = download.json()
    api = await client.export_history("ui-pause", run_id)
    # The API's own bundle, exported a moment apart (so only the export time and its checksum differ).
    assert {k: v for k, v in bundle.items() if k not in ("exported_at", "integrity")} == {
        k: v for k, v in api.items() if k not in ("exported_at", "integrity")
    }
    assert [e["type"] for e in bundle["history_events"]][-2:] == ["WorkflowPaused", "WorkflowResumed"]


async def test_the_gantt_view_shows_each_activity_with_its_attempts_and_failures(
    client: Client, browser: httpx.AsyncClient
) -> None:
    await client.start_workflow(
        workflow_type="UiCheckout", workflow_id="ui-gantt", task_queue="ui-gantt-q", input=[7]
    )
    worker = Worker(client, task_queue="ui-gantt-q", workflows=[UiCheckout], activities=[ui_charge_card])
    await worker.run_until(workflow_id="ui-gantt", timeout=30.0)
    run_id = (await client.describe_workflow("ui-gantt")).run_id
    assert (
        f"/workflow/gantt?id=ui-gantt&amp;run={run_id}" in (await browser.get("/workflow?id=ui-gantt")).text
    )
    page = (await browser.get(f"/workflow/gantt?id=ui-gantt&run={run_id}")).text
    assert "<strong>ui_charge_card</strong>" in page and "failed, 2 attempts" in page
    assert "card declined for 7" in page, "the failures under the chart"


def test_bars_place_each_step_over_the_run() -> None:

    bundle = cast(
        HistoryExportBundle,
        {
            "activities": [
                {
                    "id": "a1",
                    "sequence": 3,
                    "activity_type": "charge",
                    "status": "completed",
                    "attempt_count": 1,
                    "queue": "q",
                    "retry_policy": None,
                    "scheduled_at": "2026-12-01T10:00:00Z",
                    "closed_at": "2026-12-01T10:00:30Z",
                },
                {
                    "id": "a2",
                    "sequence": 9,
                    "activity_type": "ship",
                    "status": "running",
                    "attempt_count": 2,
                    "queue": "q",
                    "retry_policy": None,
                    "scheduled_at": "2026-12-01T10:01:00Z",
                    "closed_at": None,
                },
            ],
            "history_events": [],
            "timers": [
                {
                    "id": "t1",
                    "sequence": 5,
                    "status": "fired",
                    "delay_seconds": 30,
                    "fire_at": "2026-12-01T10:01:00Z",
                    "fired_at": "2026-12-01T10:01:00Z",
                },
            ],
        },
    )

    drawn = bars(bundle, now=datetime(2026, 12, 1, 10, 2, tzinfo=timezone.utc))
    assert [(b.label, b.left, b.width, b.detail) for b in drawn] == [
        ("charge", 0.0, 25.0, "1 attempt"),
        ("timer 30s", 25.0, 25.0, "fires 2026-12-01T10:01:00Z"),
        ("ship", 50.0, 50.0, "2 attempts"),  # still open: it runs to the chart's right edge (now)
    ]
    assert bars(cast(HistoryExportBundle, {"activities": [], "timers": [], "history_events": []})) == []


@activity.defn(name="ui_flaky_charge")
async def ui_flaky_charge(amount: int) -> str:
    raise RuntimeError(f"gateway timeout for {amount}")


@workflow.defn(name="UiSlowRetry")
class UiSlowRetry:
    def run(self, ctx: Any, amount: int) -> Any:
        policy = ActivityRetryPolicy(max_attempts=5, initial_interval_seconds=3600)
        return (yield ctx.schedule_activity("ui_flaky_charge", [amount], retry_policy=policy))


async def test_a_pending_activity_shows_its_attempt_and_last_failure(
    app: Any, client: Client, browser: httpx.AsyncClient
) -> None:
    handle = await client.start_workflow(
        workflow_type="UiSlowRetry", workflow_id="ui-pending", task_queue="ui-pending-q", input=[9]
    )
    worker = Worker(client, task_queue="ui-pending-q", workflows=[UiSlowRetry], activities=[ui_flaky_charge])
    running = asyncio.create_task(worker.run())
    try:
        await wait_for_event(app, "ui-pending", handle.run_id, "ActivityRetryScheduled")
    finally:
        await worker.stop()
        await running
    page = (await browser.get("/workflow?id=ui-pending")).text
    table = page.split('id="pending-activities"', 1)[1].split("</table>", 1)[0]
    assert "ui_flaky_charge" in table and "<td>1</td>" in table and "retry at " in table, "a retry waits"
    assert "gateway timeout for 9" in table and "(attempt 1)" in table


@workflow.defn(name="UiKid")
class UiKid:
    def run(self, ctx: Any, outcome: str) -> Any:
        if outcome == "fail":
            raise RuntimeError("the kid gave up")
        return f"kid {outcome}"
        yield  # a generator: the SDK's workflow shape


@workflow.defn(name="UiFamily")
class UiFamily:
    def run(self, ctx: Any) -> Any:
        first = yield ctx.start_child_workflow("UiKid", ["ok"], task_queue="ui-family-q")
        try:
            yield ctx.start_child_workflow("UiKid", ["fail"], task_queue="ui-family-q")
        except ChildWorkflowFailed:
            return {"first": first, "second": "failed"}
        return {"first": first, "second": "completed"}


async def test_the_gantt_view_shows_each_child_with_its_status_and_a_link_to_it(
    client: Client, browser: httpx.AsyncClient
) -> None:
    handle = await client.start_workflow(
        workflow_type="UiFamily", workflow_id="ui-family", task_queue="ui-family-q"
    )
    worker = Worker(client, task_queue="ui-family-q", workflows=[UiFamily, UiKid])
    await worker.run_until(workflow_id="ui-family", timeout=30.0)
    assert await handle.result(timeout=10.0) == {"first": "kid ok", "second": "failed"}
    export = await client.export_history("ui-family", handle.run_id)
    scheduled = [e["payload"] for e in export["history_events"] if e["type"] == "ChildWorkflowScheduled"]
    kids = [(p["child_workflow_instance_id"], p["child_workflow_run_id"]) for p in scheduled]
    assert len(kids) == 2

    page = (await browser.get(f"/workflow/gantt?id=ui-family&run={handle.run_id}")).text
    rows = page.split('class="gantt-row"')[1:]
    child_rows = [row for row in rows if "gantt-child" in row]
    assert len(child_rows) == 2, "one bar per child"
    for (kid_id, kid_run), status, row in zip(kids, ("completed", "failed"), child_rows, strict=True):
        assert f'href="/workflow?id={quote(kid_id)}&amp;run={kid_run}"' in row, "the bar links to the child"
        assert f"status-{status}" in row and f"{status}, {kid_id}, 1 run" in row
    # The child's page names its parent in the run chain, as a link back.
    kid_page = (await browser.get(f"/workflow?id={quote(kids[0][0])}")).text
    chain = kid_page.split('id="chain"', 1)[1].split("</section>", 1)[0]
    assert f'href="/workflow?id=ui-family&amp;run={handle.run_id}"' in chain


def test_child_bars_run_from_their_scheduling_to_their_close() -> None:
    def event(number: int, kind: str, at: str, /, **payload: Any) -> dict[str, Any]:
        return {"sequence": number, "type": kind, "recorded_at": at, "payload": payload}

    link = {"workflow_link_id": "l1", "child_workflow_instance_id": "kid-1", "child_workflow_type": "Kid"}
    other = {"workflow_link_id": "l2", "child_workflow_instance_id": "kid-2", "child_workflow_type": "Kid"}
    bundle = cast(
        HistoryExportBundle,
        {
            "activities": [],
            "timers": [],
            "history_events": [
                event(
                    3,
                    "ChildWorkflowScheduled",
                    "2026-12-01T10:00:00Z",
                    sequence=1,
                    **link,
                    child_workflow_run_id="r1",
                ),
                event(
                    4,
                    "ChildRunStarted",
                    "2026-12-01T10:00:00Z",
                    sequence=1,
                    **link,
                    child_workflow_run_id="r1",
                ),
                # a retry: a second run of the same child
                event(
                    6,
                    "ChildRunStarted",
                    "2026-12-01T10:00:30Z",
                    sequence=1,
                    **link,
                    child_workflow_run_id="r2",
                ),
                event(
                    7,
                    "ChildRunFailed",
                    "2026-12-01T10:01:00Z",
                    sequence=1,
                    **link,
                    child_workflow_run_id="r2",
                    child_status="failed",
                    closed_at="2026-12-01T10:01:00Z",
                ),
                event(
                    8,
                    "ChildWorkflowScheduled",
                    "2026-12-01T10:01:00Z",
                    sequence=2,
                    **other,
                    child_workflow_run_id="r3",
                ),
            ],
        },
    )
    drawn = bars(bundle, now=datetime(2026, 12, 1, 10, 2, tzinfo=timezone.utc))
    assert [(b.kind, b.status, b.left, b.width, b.detail, b.child) for b in drawn] == [
        ("child", "failed", 0.0, 50.0, "kid-1, 2 runs", ("kid-1", "r2")),
        ("child", "running", 50.0, 50.0, "kid-2, 1 run", ("kid-2", "r3")),  # open: to the right edge
    ]
