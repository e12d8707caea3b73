"""The workflow page's query and update forms, and external payloads resolved on demand, through
the real app on a real SQLite file with a real SDK worker answering.

Each refusal is checked for what it must not do: a bad input sends nothing to the worker (its
handlers count their calls), a refused update records nothing.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import Client, Worker, workflow
from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import (
    LocalFilesystemExternalStorage,
    reference_from_envelope,
    store_external_blob,
)
from durable_workflow_server.engine.external_storage.stored import to_stored
from tests.helpers.e2e_env import wait_for_event
from tests.helpers.ui import csrf_of

QUEUE = "ui-ops"
# Every call of a query or update handler, as (name, arguments): what reached the worker.
calls: list[tuple[str, tuple[Any, ...]]] = []


@workflow.defn(name="UiApproval")
class UiApproval:
    def __init__(self) -> None:
        self.approved = False
        self.notes: list[str] = []

    @workflow.query("status")
    def status(self) -> dict[str, Any]:
        calls.append(("status", ()))
        return {"approved": self.approved, "notes": self.notes}

    @workflow.query("echo")
    def echo(self, *args: Any) -> list[Any]:
        calls.append(("echo", args))
        return list(args)

    @workflow.query("explode")
    def explode(self) -> None:
        raise ValueError("state is not ready")

    @workflow.update("set_approval")
    def set_approval(self, approved: bool) -> dict[str, Any]:
        calls.append(("set_approval", (approved,)))
        self.approved = approved
        return {"approved": self.approved}

    @set_approval.validator
    def validate_set_approval(self, approved: Any) -> None:
        if not isinstance(approved, bool):
            raise ValueError("approved must be boolean")

    @workflow.update("note")
    def note(self, text: str) -> list[str]:
        if text == "boom":
            raise RuntimeError("notes cannot explode")
        self.notes.append(text)
        return list(self.notes)

    def run(self, ctx: Any, *args: Any) -> Any:
        yield ctx.wait_condition(lambda: self.approved and len(self.notes) >= 5, key="approved")
        return {"approved": self.approved, "notes": self.notes}


@pytest.fixture
def ui_settings_overrides() -> dict[str, Any]:
    return {"query_task_timeout": 5.0}


@pytest.fixture
def browser(signed_in: httpx.AsyncClient) -> httpx.AsyncClient:
    return signed_in


@asynccontextmanager
async def waiting_run(app: Any, client: Client, workflow_id: str) -> AsyncIterator[str]:
    """A run of ``UiApproval`` waiting on its condition, with a live worker serving its queue."""
    calls.clear()
    handle = await client.start_workflow(
        workflow_type="UiApproval", workflow_id=workflow_id, task_queue=QUEUE
    )
    worker = Worker(client, task_queue=QUEUE, workflows=[UiApproval])
    running = asyncio.create_task(worker.run())
    try:
        # The first workflow task is done (so the worker is registered and live).
        await wait_for_event(app, workflow_id, handle.run_id, "ConditionWaitOpened")
        yield handle.run_id
    finally:
        await worker.stop()
        await running


async def event_types(client: Client, workflow_id: str) -> list[str]:
    described = await client.describe_workflow(workflow_id)
    page = await client.get_history(workflow_id, described.run_id, page_size=1000)
    return [event["event_type"] for event in page["events"]]


def outcome_of(page: str) -> str:
    """The text of the page's outcome panel (what the query or update answered), without tags."""
    assert 'id="outcome"' in page, "the page shows what the operation answered"
    panel = page.split('id="outcome"', 1)[1].split(">", 1)[1].split("</section>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", "", panel))


async def test_a_query_from_the_page_shows_the_decoded_answer_and_writes_nothing(
    app: Any, sdk: Client, browser: httpx.AsyncClient
) -> None:
    async with waiting_run(app, sdk, "ui-query") as run_id:
        page = (await browser.get("/workflow?id=ui-query")).text
        assert 'action="/workflow/query"' in page, "an open run offers the query form"
        before = await event_types(sdk, "ui-query")
        form = {"csrf": csrf_of(page), "id": "ui-query", "run": run_id, "name": "status", "input": "[]"}
        answer = await browser.post("/workflow/query", data=form)
        assert answer.status_code == 200
        shown = outcome_of(answer.text)
        assert "Query status: answered" in shown and '"approved": false' in shown
        echoed = await browser.post(
            "/workflow/query", data={**form, "name": "echo", "input": '["a", {"b": 2}]'}
        )
        assert echoed.status_code == 200 and '"b": 2' in outcome_of(echoed.text)
        assert 'value="[&#34;a&#34;, {&#34;b&#34;: 2}]"' in echoed.text, "the form keeps what was typed"
        assert calls == [("status", ()), ("echo", ("a", {"b": 2}))]
        assert await event_types(sdk, "ui-query") == before, "a query records nothing"


async def test_a_refused_query_shows_its_status_and_bad_input_sends_nothing(
    app: Any, sdk: Client, browser: httpx.AsyncClient
) -> None:
    async with waiting_run(app, sdk, "ui-query-bad") as run_id:
        page = (await browser.get("/workflow?id=ui-query-bad")).text
        form = {"csrf": csrf_of(page), "id": "ui-query-bad", "run": run_id, "input": "[]"}
        unknown = await browser.post("/workflow/query", data={**form, "name": "nope"})
        assert unknown.status_code == 404 and "rejected_unknown_query" in outcome_of(unknown.text)
        raised = await browser.post("/workflow/query", data={**form, "name": "explode"})
        assert raised.status_code == 409 and "state is not ready" in outcome_of(raised.text)
        bad_json = await browser.post("/workflow/query", data={**form, "name": "echo", "input": "[nope"})
        assert bad_json.status_code == 422 and "The input is not JSON" in bad_json.text
        not_a_list = await browser.post("/workflow/query", data={**form, "name": "echo", "input": '"x"'})
        assert not_a_list.status_code == 422
        no_name = await browser.post("/workflow/query", data={**form, "name": " "})
        assert no_name.status_code == 422 and "query name field is required" in no_name.text
        no_csrf = {k: v for k, v in form.items() if k != "csrf"}
        assert (await browser.post("/workflow/query", data={**no_csrf, "name": "echo"})).status_code == 403
        assert calls == [], "nothing reached the worker's handlers"


async def test_a_query_with_no_worker_to_answer_is_refused_on_the_page(
    sdk: Client, browser: httpx.AsyncClient
) -> None:
    await sdk.start_workflow(workflow_type="UiApproval", workflow_id="ui-query-alone", task_queue="nobody-q")
    page = (await browser.get("/workflow?id=ui-query-alone")).text
    form = {"csrf": csrf_of(page), "id": "ui-query-alone", "run": "", "name": "status", "input": "[]"}
    answer = await browser.post("/workflow/query", data=form)
    assert answer.status_code == 409 and "query_worker_unavailable" in outcome_of(answer.text)
    missing = await browser.post("/workflow/query", data={**form, "id": "ui-no-such-workflow"})
    assert missing.status_code == 404 and "instance_not_found" in missing.text


async def test_an_update_from_the_page_waits_for_its_result_or_its_failure(
    app: Any, sdk: Client, browser: httpx.AsyncClient
) -> None:
    async with waiting_run(app, sdk, "ui-update") as run_id:
        page = (await browser.get("/workflow?id=ui-update")).text
        assert 'action="/workflow/update"' in page, "the current open run offers the update form"
        form = {
            "csrf": csrf_of(page),
            "id": "ui-update",
            "run": run_id,
            "name": "set_approval",
            "input": "[true]",
        }
        answer = await browser.post("/workflow/update", data=form)
        assert answer.status_code == 200
        shown = outcome_of(answer.text)
        assert "Update set_approval: completed" in shown and '"approved": true' in shown
        history = await event_types(sdk, "ui-update")
        assert history.count("UpdateAccepted") == 1 and history.count("UpdateCompleted") == 1
        assert ("set_approval", (True,)) in calls
        assert await sdk.query_workflow("ui-update", "status") == {"approved": True, "notes": []}

        failed = await browser.post("/workflow/update", data={**form, "name": "note", "input": '["boom"]'})
        assert failed.status_code == 422
        assert "failed" in outcome_of(failed.text) and "notes cannot explode" in outcome_of(failed.text)


async def test_a_refused_update_records_nothing(app: Any, sdk: Client, browser: httpx.AsyncClient) -> None:
    async with waiting_run(app, sdk, "ui-update-bad") as run_id:
        page = (await browser.get("/workflow?id=ui-update-bad")).text
        before = await event_types(sdk, "ui-update-bad")
        form = {"csrf": csrf_of(page), "id": "ui-update-bad", "run": run_id, "input": "[]"}
        rejected = await browser.post(
            "/workflow/update", data={**form, "name": "set_approval", "input": '["yes"]'}
        )
        assert rejected.status_code == 409 and "approved must be boolean" in outcome_of(rejected.text)
        unknown = await browser.post("/workflow/update", data={**form, "name": "nope"})
        assert unknown.status_code == 404 and "unknown_update" in outcome_of(unknown.text)
        bad_json = await browser.post("/workflow/update", data={**form, "name": "note", "input": "{"})
        assert bad_json.status_code == 422 and "The input is not JSON" in bad_json.text
        no_csrf = {k: v for k, v in form.items() if k != "csrf"}
        assert (await browser.post("/workflow/update", data={**no_csrf, "name": "note"})).status_code == 403
        assert await event_types(sdk, "ui-update-bad") == before
        assert [name for name, _ in calls if name != "status"] == []


async def test_an_external_payload_is_shown_by_reference_and_resolved_only_when_asked(
    sdk: Client, browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    root = tmp_path / "payloads"
    await sdk.set_namespace_external_storage(
        "default", driver="local", enabled=True, threshold_bytes=1024, config={"uri": root.as_uri()}
    )
    document = "external document " * 400  # 7,200 characters: over the threshold
    await sdk.start_workflow(
        workflow_type="UiApproval", workflow_id="ui-external", task_queue="nobody-q", input=[document]
    )
    page = (await browser.get("/workflow?id=ui-external")).text
    assert document not in page, "the page holds the reference, not the payload"
    assert "&lt;external payload: " in page and "not fetched&gt;" in page
    links = sorted(
        set(html.unescape(part.split('"', 1)[0]) for part in page.split('href="/workflow/payload?')[1:])
    )
    assert len(links) == 1, "the input (describe and WorkflowStarted) is one stored object: one resolve link"
    resolved = await browser.get(f"/workflow/payload?{links[0]}")
    assert resolved.status_code == 200
    shown = html.unescape(resolved.text.split('id="resolved-payload">', 1)[1].split("</pre>", 1)[0])
    assert document in shown

    # Nothing is fetched for the page itself: with the object gone the page still opens, and only
    # the resolve request meets the storage (and says why it cannot).
    (stored,) = [p for p in root.rglob("*") if p.is_file()]
    stored.unlink()
    assert (await browser.get("/workflow?id=ui-external")).status_code == 200
    gone = await browser.get(f"/workflow/payload?{links[0]}")
    assert gone.status_code == 422 and "integrity check" in gone.text


async def test_a_reference_the_namespace_cannot_read_is_refused(
    sdk: Client, browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    elsewhere = LocalFilesystemExternalStorage(tmp_path / "elsewhere")
    envelope = store_external_blob(elsewhere, codec.envelope(["x"])["blob"], codec="avro")
    token = to_stored(reference_from_envelope(envelope))
    no_policy = await browser.get("/workflow/payload", params={"ref": token})
    assert no_policy.status_code == 422 and "not configured for this namespace." in no_policy.text
    await sdk.set_namespace_external_storage(
        "default",
        driver="local",
        enabled=True,
        threshold_bytes=1024,
        config={"uri": (tmp_path / "ns").as_uri()},
    )
    outside = await browser.get("/workflow/payload", params={"ref": token})
    assert outside.status_code == 422 and "cannot be read from this namespace" in outside.text
    malformed = await browser.get("/workflow/payload", params={"ref": "dw-external-payload:v1:!!"})
    assert malformed.status_code == 422
    assert (await browser.get("/workflow/payload")).status_code == 422
