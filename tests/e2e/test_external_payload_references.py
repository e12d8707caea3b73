"""Requests carrying ``{codec, external_storage}`` envelopes (control-plane.md §6.4), end to end:
the reference is checked, fetched through the namespace's driver and verified; a bad one is
refused with 422 on ``input.external_storage`` and nothing is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import LocalFilesystemExternalStorage, store_external_blob
from durable_workflow_server import create_app
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.helpers.e2e_env import TOKEN, e2e_settings
from tests.helpers.external_storage import local_policy, set_policy, stored_files

HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
BIG = ["p" * 5000]


class Server:
    def __init__(self, http: httpx.AsyncClient, engine: Engine, root: Path) -> None:
        self.http, self.engine, self.root = http, engine, root

    def sender_reference(self, value: Any, root: Path | None = None) -> dict[str, Any]:
        """An envelope whose bytes the sender wrote into the storage itself."""
        blob = codec.envelope(value)["blob"]
        return dict(
            store_external_blob(LocalFilesystemExternalStorage(root or self.root), blob, codec="avro")
        )

    async def start(self, workflow_id: str, payload: Any) -> httpx.Response:
        body = {"workflow_type": "greeter", "workflow_id": workflow_id, "task_queue": "q", "input": payload}
        return await self.http.post("/api/workflows", json=body, headers=HEADERS)

    async def runs(self) -> list[dict[str, Any]]:
        async with self.engine._read() as tx:
            return await tx.all(sa.select(t.workflow_runs))


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    settings = e2e_settings(database_url)
    engine = Engine(settings)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            root = tmp_path / "payloads"
            await set_policy(engine, "default", local_policy(root, threshold_bytes=1024))
            yield Server(http, engine, root)


async def test_a_referenced_start_input_is_fetched_and_kept_as_the_servers_reference(server: Server) -> None:
    sent = server.sender_reference(BIG)
    response = await server.start("ref-ok", sent)
    assert response.status_code == 201, response.text
    described = (await server.http.get("/api/workflows/ref-ok", headers=HEADERS)).json()
    kept = described["input_envelope"]["external_storage"]
    assert (kept["sha256"], kept["size_bytes"]) == (
        sent["external_storage"]["sha256"],
        sent["external_storage"]["size_bytes"],
    )
    assert kept["uri"] != sent["external_storage"]["uri"]  # the server's own copy
    assert len(stored_files(server.root)) == 2


async def test_a_referenced_signal_under_the_threshold_is_stored_inline(server: Server) -> None:
    assert (await server.start("ref-sig", ["a"])).status_code == 201
    sent = server.sender_reference(["small"])
    response = await server.http.post(
        "/api/workflows/ref-sig/signal/go", json={"input": sent}, headers=HEADERS
    )
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    history = (await server.http.get(f"/api/workflows/ref-sig/runs/{run_id}/history", headers=HEADERS)).json()
    [signal] = [e for e in history["events"] if e["event_type"] == "SignalReceived"]
    assert codec.decode(signal["payload"]["arguments"]) == ["small"]


def _with(reference: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**reference, "external_storage": {**reference["external_storage"], **changes}}


BAD_SHAPES: list[tuple[str, Any]] = [
    ("bad sha256", lambda r: _with(r, sha256="abc")),
    ("negative size", lambda r: _with(r, size_bytes=-1)),
    ("size as text", lambda r: _with(r, size_bytes="10")),
    ("unknown schema", lambda r: _with(r, schema="durable-workflow.v2.external-payload-reference.v9")),
    (
        "codec mismatch",
        lambda r: {**r, "codec": "avro", "external_storage": {**r["external_storage"], "codec": "json"}},
    ),
    ("reference not an object", lambda r: {**r, "external_storage": "s3://x/y"}),
]


@pytest.mark.parametrize("change", [c for _, c in BAD_SHAPES], ids=[n for n, _ in BAD_SHAPES])
async def test_a_malformed_reference_is_refused_and_nothing_is_written(server: Server, change: Any) -> None:
    sent = change(server.sender_reference(BIG))
    response = await server.start("ref-bad", sent)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["reason"] == "validation_failed"
    assert list(answer["errors"]) == ["input.external_storage"]
    assert await server.runs() == []


async def test_another_codec_is_refused_as_an_unsupported_codec(server: Server) -> None:
    sent = server.sender_reference(BIG)
    sent = {"codec": "json", "external_storage": {**sent["external_storage"], "codec": "json"}}
    response = await server.start("ref-json", sent)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["input.codec"]
    assert await server.runs() == []


@pytest.mark.parametrize("damage", ["delete", "mutate"])
async def test_a_missing_or_mutated_object_is_refused_and_nothing_is_written(
    server: Server, damage: str
) -> None:
    sent = server.sender_reference(BIG)
    path = LocalFilesystemExternalStorage(server.root).path_for(sent["external_storage"]["uri"])
    if damage == "delete":
        path.unlink()
    else:
        text = path.read_text()
        path.write_text(text[:20] + ("A" if text[20] != "A" else "B") + text[21:])
    response = await server.start("ref-damaged", sent)
    assert response.status_code == 422
    [message] = response.json()["errors"]["input.external_storage"]
    assert ("missing" if damage == "delete" else "sha256_mismatch") in message
    assert await server.runs() == []
    assert stored_files(server.root) == ([] if damage == "delete" else [path])


async def test_a_namespace_without_storage_refuses_references(server: Server) -> None:
    await set_policy(server.engine, "default", None)
    response = await server.start("ref-unconfigured", server.sender_reference(BIG))
    assert response.status_code == 422
    assert "not configured" in response.json()["errors"]["input.external_storage"][0]
    assert await server.runs() == []


async def test_a_reference_outside_the_namespaces_storage_is_refused(server: Server, tmp_path: Path) -> None:
    elsewhere = server.sender_reference(BIG, root=tmp_path / "elsewhere")
    response = await server.start("ref-foreign", elsewhere)
    assert response.status_code == 422
    assert "escapes the storage root" in response.json()["errors"]["input.external_storage"][0]
    assert await server.runs() == []
