"""Server-side external payload storage end to end: the real app (ASGI), the real SDK client and
worker, SQLite and PostgreSQL.

The acceptance case of issue 8: with a namespace threshold of 64 KiB, a 5 MiB workflow input is
kept in history as a reference (not the bytes), the worker receives the value, the result
round-trips, and a stored object changed behind the server's back fails the next read with
``ExternalPayloadIntegrityError``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from durable_workflow import Client, ExternalPayloadIntegrityError, Worker, activity, workflow
from durable_workflow.protocol.payload_storage import LocalFilesystemExternalStorage
from durable_workflow_server import create_app
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.helpers.e2e_env import TOKEN, e2e_settings, sdk_client
from tests.server.conftest import FakeClock

THRESHOLD = 64 * 1024
FIVE_MIB = 5 * 1024 * 1024
# Room for a 5 MiB value inline (its avro blob is base64, a third larger) in a worker's completion.
BODY_LIMIT = 16 * 1024 * 1024
QUEUE = "external-payloads"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}


@activity.defn(name="ext-measure")
async def measure(document: str) -> dict[str, Any]:
    return {"length": len(document), "sha256": hashlib.sha256(document.encode()).hexdigest()}


@workflow.defn(name="ext-echo")
class EchoWorkflow:
    def run(self, ctx: Any, document: str) -> Any:
        measured = yield ctx.schedule_activity("ext-measure", [document])
        return {"document": document, "measured": measured}


class Setup:
    def __init__(self, app: Any, engine: Engine, root: Path) -> None:
        self.app, self.engine, self.root = app, engine, root

    def client(self, **kwargs: Any) -> Client:
        """An SDK client that reaches the namespace's storage (the same directory as the server)."""
        options: dict[str, Any] = {
            "external_storage": LocalFilesystemExternalStorage(self.root),
            "external_storage_threshold_bytes": THRESHOLD,
            "payload_size_limit_bytes": BODY_LIMIT,
        }
        return sdk_client(self.app, **{**options, **kwargs})

    async def raw(self, path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.get(path, headers=HEADERS)

    async def payload_rows(self, run_id: str) -> list[dict[str, Any]]:
        async with self.engine._read() as tx:
            return await tx.all(sa.select(t.external_payloads).where(t.external_payloads.c.run_id == run_id))


@pytest.fixture
async def setup(database_url: str, tmp_path: Path) -> AsyncIterator[Setup]:
    settings = e2e_settings(database_url, max_payload_bytes=BODY_LIMIT)
    engine = Engine(settings)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield Setup(app, engine, tmp_path / "payloads")


async def set_policy(client: Client, root: Path, threshold: int | None = THRESHOLD) -> None:
    await client.set_namespace_external_storage(
        "default", driver="local", enabled=True, threshold_bytes=threshold, config={"uri": root.as_uri()}
    )


def reference(value: Any) -> dict[str, Any]:
    assert isinstance(value, dict) and set(value) == {"codec", "external_storage"}, str(value)[:200]
    return value["external_storage"]  # type: ignore[no-any-return]


async def test_a_five_mib_input_is_kept_by_reference_and_round_trips(setup: Setup) -> None:
    document = "".join(f"line {i:07d} of the document\n" for i in range(FIVE_MIB // 29 + 1))[:FIVE_MIB]
    async with setup.client() as client:
        await set_policy(client, setup.root)
        handle = await client.start_workflow(
            workflow_type="ext-echo", task_queue=QUEUE, workflow_id="ext-5mib", input=[document]
        )
        worker = Worker(client, task_queue=QUEUE, workflows=[EchoWorkflow], activities=[measure])
        execution = await worker.run_until(workflow_id="ext-5mib", timeout=60.0)
        assert execution.status == "completed"
        result = await handle.result(timeout=30.0)
    # The worker received the value (the activity measured it) and the result round-tripped.
    assert result["measured"] == {"length": FIVE_MIB, "sha256": hashlib.sha256(document.encode()).hexdigest()}
    assert result["document"] == document

    # History holds references, not the bytes.
    page = await setup.raw(f"/api/workflows/ext-5mib/runs/{handle.run_id}/history?page_size=1000")
    assert len(page.content) < 64 * 1024
    events = {e["event_type"]: e["payload"] for e in page.json()["events"]}
    started = reference(events["WorkflowStarted"]["arguments"])
    output = reference(events["WorkflowCompleted"]["output"])
    assert started["size_bytes"] > FIVE_MIB and output["size_bytes"] > FIVE_MIB
    described = (await setup.raw("/api/workflows/ext-5mib")).json()
    assert reference(described["output_envelope"]) == output
    # The server's objects: the input, the activity's arguments, the output (one row each).
    rows = await setup.payload_rows(handle.run_id)
    assert {r["uri"] for r in rows} >= {started["uri"], output["uri"]} and len(rows) == 3

    # An object changed behind the server's back fails the next read.
    stored = LocalFilesystemExternalStorage(setup.root).path_for(output["uri"])
    text = stored.read_text()
    stored.write_text(text[:100] + ("A" if text[100] != "A" else "B") + text[101:])
    async with setup.client() as fresh:  # a new client: nothing cached
        with pytest.raises(ExternalPayloadIntegrityError) as caught:
            await fresh.get_workflow_handle("ext-5mib").result(timeout=10.0)
    assert caught.value.kind == "sha256_mismatch"


async def test_a_policy_set_through_the_api_applies_to_the_next_start(setup: Setup) -> None:
    big = ["b" * 200_000]
    async with setup.client(external_storage_threshold_bytes=BODY_LIMIT) as client:  # sent inline
        start = {"workflow_type": "ext-echo", "task_queue": QUEUE, "input": big}
        await client.start_workflow(workflow_id="p-before", **start)
        await set_policy(client, setup.root)
        await client.start_workflow(workflow_id="p-after", **start)
    before = (await setup.raw("/api/workflows/p-before")).json()
    after = (await setup.raw("/api/workflows/p-after")).json()
    assert set(before["input_envelope"]) == {"codec", "blob"}
    assert reference(after["input_envelope"])["size_bytes"] > THRESHOLD


async def test_a_client_without_a_driver_gets_the_reference_not_the_value(setup: Setup) -> None:
    # What a program without access to the storage meets above the threshold (SDK 0.4.84 without
    # external_storage= fails to decode it; ours hands the reference over as it is).
    async with setup.client() as client:
        await set_policy(client, setup.root)
        handle = await client.start_workflow(
            workflow_type="ext-echo", task_queue=QUEUE, workflow_id="no-driver", input=["n" * 100_000]
        )
        worker = Worker(client, task_queue=QUEUE, workflows=[EchoWorkflow], activities=[measure])
        await worker.run_until(workflow_id="no-driver", timeout=60.0)
        assert (await handle.result(timeout=10.0))["document"] == "n" * 100_000
    described = (await setup.raw("/api/workflows/no-driver")).json()
    assert "n" * 1000 not in json.dumps(described)
    async with sdk_client(setup.app) as plain:
        result = await plain.get_workflow_handle("no-driver").result(timeout=10.0)
    assert reference(result) == reference(described["output_envelope"])


async def test_the_retention_pass_deletes_a_pruned_runs_stored_objects(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    root = tmp_path / "payloads"
    settings = e2e_settings(database_url, max_payload_bytes=BODY_LIMIT, clock=clock)
    engine = Engine(settings)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        setup = Setup(app, engine, root)
        async with setup.client() as client:
            await set_policy(client, root)
            worker = Worker(client, task_queue=QUEUE, workflows=[EchoWorkflow], activities=[measure])
            old = await client.start_workflow(
                workflow_type="ext-echo", task_queue=QUEUE, workflow_id="old", input=["o" * 100_000]
            )
            await worker.run_until(workflow_id="old", timeout=60.0)
            clock.advance(31 * 86400)
            recent = await client.start_workflow(
                workflow_type="ext-echo", task_queue=QUEUE, workflow_id="recent", input=["r" * 100_000]
            )
            await worker.run_until(workflow_id="recent", timeout=60.0)
            old_uris = {r["uri"] for r in await setup.payload_rows(old.run_id)}
            recent_uris = {r["uri"] for r in await setup.payload_rows(recent.run_id)}
            assert len(old_uris) == len(recent_uris) == 3
            report = await client.retention_pass()
            assert report["results"][0]["external_payloads_deleted"] == 3
            files = {p.as_uri() for p in root.rglob("*") if p.is_file()}
            assert not old_uris & files and recent_uris <= files
            assert await setup.payload_rows(old.run_id) == []
            again = await client.retention_pass()
            assert again["pruned"] == 0
            assert (await client.get_workflow_handle("recent").result(timeout=10.0))[
                "document"
            ] == "r" * 100_000
