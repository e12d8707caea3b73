"""Typed search attributes end to end: SDK starts and a real worker's upserts, then the SDK's
``list_workflows`` filters (query language, ``search_attributes=``, queue, time windows) and
keyset pages, through the real app on SQLite and PostgreSQL. Wrong-typed starts are refused
with a field error and write nothing; a bad query is a 422 with a clear message.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from durable_workflow import Client, InvalidArgument, Worker, workflow
from tests.helpers.e2e_env import TOKEN
from tests.helpers.live_app import snapshot


@workflow.defn(name="tagged")
class Tagged:
    def run(self, ctx: Any, priority: int) -> Any:
        yield ctx.upsert_search_attributes({"Priority": priority, "Stage": "done"})
        return priority


@workflow.defn(name="mistyped")
class Mistyped:
    def run(self, ctx: Any) -> Any:
        yield ctx.upsert_search_attributes({"Priority": "high"})
        return "never"


async def _register(client: Client) -> None:
    for name, kind in (
        ("Priority", "int"),
        ("Stage", "keyword"),
        ("Tags", "keyword_list"),
        ("DueAt", "datetime"),
    ):
        await client.create_search_attribute(name, kind)


async def test_worker_upserts_are_filterable(client: Client) -> None:
    await _register(client)
    for i in range(4):
        await client.start_workflow(
            workflow_type="tagged",
            task_queue="sa-q",
            workflow_id=f"tagged-{i}",
            input=[i * 3],
            search_attributes={"Tags": ["batch", f"n{i}"], "Stage": "new"},
        )
    worker = Worker(client, task_queue="sa-q", workflows=[Tagged], activities=[])
    for i in range(4):
        await worker.run_until(workflow_id=f"tagged-{i}", timeout=30.0, poll_interval=0.05)

    found = await client.list_workflows(query="Priority >= 4 AND Stage = 'done'")
    assert sorted(w.workflow_id for w in found) == ["tagged-2", "tagged-3"]
    described = await client.describe_workflow("tagged-3")
    assert described.search_attributes == {"Priority": 9, "Stage": "done", "Tags": ["batch", "n3"]}
    by_map = await client.list_workflows(search_attributes={"Tags": ["n1", "n2"]}, status="completed")
    assert sorted(w.workflow_id for w in by_map) == ["tagged-1", "tagged-2"]
    combined = await client.list_workflows(
        query="Priority < 9", search_attributes={"Tags": "batch"}, task_queue="sa-q", workflow_type="tagged"
    )
    assert sorted(w.workflow_id for w in combined) == ["tagged-0", "tagged-1", "tagged-2"]
    assert len(await client.list_workflows(task_queue="elsewhere")) == 0


class FailureWatchingClient(Client):
    """Our SDK client, noting the workflow-task failures its worker reports."""

    failures: list[str]
    reported: asyncio.Event

    async def fail_workflow_task(self, **kwargs: Any) -> Any:
        self.failures.append(kwargs["message"])
        self.reported.set()
        return await super().fail_workflow_task(**kwargs)


async def test_a_mistyped_upsert_fails_the_task_and_records_nothing(client: Client, app: Any) -> None:
    await _register(client)
    handle = await client.start_workflow(
        workflow_type="mistyped", task_queue="sa-bad", workflow_id="mistyped-1"
    )
    watching = FailureWatchingClient("http://testserver", token=TOKEN, transport=httpx.ASGITransport(app=app))
    watching.failures, watching.reported = [], asyncio.Event()
    async with watching:
        worker = Worker(watching, task_queue="sa-bad", workflows=[Mistyped], activities=[])
        running = asyncio.create_task(worker.run())
        try:
            # The server refuses the completion (422); the worker reports it as the task's failure.
            await asyncio.wait_for(watching.reported.wait(), timeout=30)
        finally:
            await worker.stop()
            await running
    assert "Priority" in watching.failures[0]
    assert "int attribute" in watching.failures[0]
    described = await client.describe_workflow("mistyped-1")
    assert not described.is_terminal and "Priority" not in described.search_attributes
    history = await client.get_history("mistyped-1", handle.run_id)
    assert "SearchAttributesUpserted" not in [e["event_type"] for e in history["events"]]


async def test_a_wrong_typed_start_is_refused(client: Client, database_url: str) -> None:
    await _register(client)
    before = await snapshot(database_url)
    with pytest.raises(InvalidArgument) as refused:
        await client.start_workflow(
            workflow_type="tagged",
            task_queue="sa-q",
            workflow_id="bad-1",
            search_attributes={"DueAt": "soon"},
        )
    assert refused.value.status_code == 422 and refused.value.reason == "validation_failed"
    assert list(refused.value.errors or {}) == ["search_attributes.DueAt"]
    assert await snapshot(database_url) == before


async def test_bad_queries_are_422(client: Client) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await client.list_workflows(query="Nope >= 3")
    assert refused.value.status_code == 422
    assert "Unknown search attribute 'Nope'" in (refused.value.errors or {})["query"][0]
    with pytest.raises(InvalidArgument):
        await client.list_workflows(query="WorkflowType = ")
    with pytest.raises(InvalidArgument):
        await client.list_workflows(started_after="not a time")


async def test_pages_and_windows(client: Client) -> None:
    await _register(client)
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    for i in range(7):
        await client.start_workflow(
            workflow_type="paged",
            task_queue="sa-pages",
            workflow_id=f"paged-{i}",
            search_attributes={"Priority": i},
        )
    seen: list[str] = []
    token: str | None = None
    while True:
        page = await client.list_workflows(workflow_type="paged", page_size=3, next_page_token=token)
        seen += [w.workflow_id for w in page]
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"paged-{i}" for i in range(6, -1, -1)]
    window = await client.list_workflows(
        workflow_type="paged",
        started_after=before,
        started_before=datetime.now(timezone.utc) + timedelta(seconds=1),
    )
    assert len(window) == 7
    assert len(await client.list_workflows(workflow_type="paged", started_before=before)) == 0
    assert len(await client.list_workflows(workflow_type="paged", closed_after=before)) == 0  # all open


async def test_hostile_inputs_are_422_not_500(client: Client, database_url: str) -> None:
    # Review M1-M4: each of these raised inside the server (OverflowError / RecursionError).
    await client.create_search_attribute("Score", "double")
    await client.create_search_attribute("DueAt", "datetime")
    before = await snapshot(database_url)
    for name, value in (
        ("Score", 10**400),
        ("DueAt", "0001-01-01T00:00:00+14:00"),
        ("DueAt", "9999-12-31T23:59:59-01:00"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await client.start_workflow(
                workflow_type="hostile", task_queue="sa-q", workflow_id="h-1", search_attributes={name: value}
            )
        assert refused.value.status_code == 422
        assert list(refused.value.errors or {}) == [f"search_attributes.{name}"]
    assert await snapshot(database_url) == before
    for query in ("Score = " + "9" * 400, "DueAt > '0001-01-01T00:00:00+14:00'", "NOT " * 30 + "Score = 1"):
        with pytest.raises(InvalidArgument) as refused:
            await client.list_workflows(query=query)
        assert refused.value.status_code == 422 and "query" in (refused.value.errors or {})
    with pytest.raises(InvalidArgument) as refused:
        await client.list_workflows(started_after="0001-01-01T00:00:00+14:00")
    assert refused.value.status_code == 422
    assert len(await client.list_workflows(query="NOT NOT Score = 1")) == 0

    await client.start_workflow(workflow_type="hostile", task_queue="sa-q", workflow_id="h-2")
    # A forged token past year 9999 reads as the first page (contract §7.3), not a 500.
    page = await client.list_workflows(workflow_type="hostile", next_page_token="k1.999999999999999999.x")
    assert [w.workflow_id for w in page] == ["h-2"]
