"""Client(external_storage=...): large input goes out as references, references read back resolved."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import ExternalPayloadIntegrityError, LocalFilesystemExternalStorage
from durable_workflow.client import Client
from durable_workflow.errors import PayloadError
from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import (
    STORED_REFERENCE_PREFIX,
    ExternalPayloadCache,
    ExternalPayloadReference,
    fetch_external_blob,
    store_external_blob,
)
from tests.sdk.client.test_client_workflows import _event, history_server

BIG = "y" * 4000  # encodes to well over the 1 KiB threshold used below


@pytest.fixture
def storage(tmp_path: Path) -> LocalFilesystemExternalStorage:
    return LocalFilesystemExternalStorage(tmp_path / "payloads")


def _started(fake: Any) -> None:
    fake.reply(201, {"workflow_id": "wf", "run_id": "r1", "workflow_type": "t", "outcome": "started_new"})


async def test_input_over_the_threshold_is_sent_as_a_reference(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(external_storage=storage, external_storage_threshold_bytes=1024)
    _started(fake)
    await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf", input=[BIG])
    sent = fake.body_of(fake.last)["input"]
    assert set(sent) == {"codec", "external_storage"} and sent["codec"] == "avro"
    reference = ExternalPayloadReference.from_dict(sent["external_storage"])
    # The stored object is exactly the blob the inline envelope would have carried.
    assert fetch_external_blob(storage, reference) == codec.encode([BIG])
    assert reference.size_bytes == len(codec.encode([BIG]))

    _started(fake)
    await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf2", input=["small"])
    assert fake.body_of(fake.last)["input"] == codec.envelope(["small"])


async def test_signal_query_and_update_input_go_external_too(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(external_storage=storage, external_storage_threshold_bytes=1024)
    handle = client.get_workflow_handle("wf")
    fake.reply(202, {"outcome": "signal_received", "workflow_id": "wf"})
    await handle.signal("go", [BIG])
    fake.reply(200, {"result": 1, "result_envelope": None})
    await handle.query("size", [BIG])
    fake.reply(200, {"update_id": "u1", "outcome": "update_completed", "result": 1, "result_envelope": None})
    await handle.update("resize", [BIG])
    for request in fake.requests:
        sent = fake.body_of(request)["input"]
        reference = ExternalPayloadReference.from_dict(sent["external_storage"])
        assert codec.decode(fetch_external_blob(storage, reference)) == [BIG]


async def test_external_input_is_not_held_to_the_inline_payload_limit(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(
        external_storage=storage, external_storage_threshold_bytes=1024, payload_size_limit_bytes=2048
    )
    _started(fake)
    await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf", input=["z" * 10_000])
    assert "external_storage" in fake.body_of(fake.last)["input"]


def _describe(input_envelope: Any) -> dict[str, Any]:
    return {
        "workflow_id": "wf",
        "run_id": "r1",
        "workflow_type": "t",
        "status": "running",
        "payload_codec": "avro",
        "input": None,
        "input_envelope": input_envelope,
        "output": None,
        "output_envelope": None,
    }


async def test_describe_resolves_reference_envelopes_with_integrity_checks(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(external_storage=storage)
    envelope = store_external_blob(storage, codec.encode([BIG]), codec="avro")
    fake.reply(200, _describe(envelope))
    assert (await client.describe_workflow("wf")).input == [BIG]

    path = storage.path_for(envelope["external_storage"]["uri"])
    path.write_bytes(path.read_bytes().replace(b"e", b"f", 1))
    client.external_storage_cache.clear()  # type: ignore[union-attr]
    fake.reply(200, _describe(envelope))
    with pytest.raises(ExternalPayloadIntegrityError) as caught:
        await client.describe_workflow("wf")
    assert caught.value.kind == "sha256_mismatch"


async def test_verified_bytes_are_cached_but_a_changed_reference_is_not_trusted(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    cache = ExternalPayloadCache(max_entries=8, max_bytes=1 << 20)
    client = make_client(external_storage=storage, external_storage_cache=cache)
    envelope = store_external_blob(storage, codec.encode([BIG]), codec="avro")
    fake.reply(200, _describe(envelope))
    await client.describe_workflow("wf")
    assert client.external_storage_cache is cache and len(cache) == 1
    storage.delete(envelope["external_storage"]["uri"])
    fake.reply(200, _describe(envelope))
    assert (await client.describe_workflow("wf")).input == [BIG]  # served from the cache


async def test_a_malformed_reference_is_a_payload_error(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(external_storage=storage)
    fake.reply(200, _describe({"codec": "avro", "external_storage": {"schema": "v0", "uri": "file:///x"}}))
    with pytest.raises(PayloadError, match="bad external payload reference"):
        await client.describe_workflow("wf")


async def test_without_a_driver_a_reference_cannot_be_decoded(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client()
    body = _describe(store_external_blob(storage, codec.encode([BIG]), codec="avro"))
    del body["input"]  # no decoded copy to fall back on
    fake.reply(200, body)
    with pytest.raises(PayloadError, match="external-storage references must be fetched"):
        await client.describe_workflow("wf")


async def test_get_result_reads_a_reference_in_the_blobs_place_in_history(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    output = store_external_blob(storage, codec.encode({"report": BIG}), codec="avro")
    events = [
        _event(1, "WorkflowStarted"),
        _event(2, "WorkflowCompleted", {"output": output, "payload_codec": "avro"}),
    ]
    fake.handler = history_server(["completed"], events, page=100)
    client = make_client(external_storage=storage)
    assert await client.get_result(client.get_workflow_handle("wf"), poll_interval=0) == {"report": BIG}


async def test_the_reference_engines_string_form_is_read_too(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    envelope = store_external_blob(storage, codec.encode("done"), codec="avro")
    stored = STORED_REFERENCE_PREFIX + base64.b64encode(json.dumps(envelope).encode()).decode()
    events = [
        _event(1, "WorkflowStarted"),
        _event(2, "WorkflowCompleted", {"output": stored, "payload_codec": "avro"}),
    ]
    fake.handler = history_server(["completed"], events, page=100)
    client = make_client(external_storage=storage)
    assert await client.get_result(client.get_workflow_handle("wf"), poll_interval=0) == "done"


async def test_worker_plane_answers_are_left_to_the_worker(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    # A poll answer is resolved by the worker's task parsers (which can fail the task), not here.
    client = make_client(external_storage=storage)
    envelope = store_external_blob(storage, codec.encode([1]), codec="avro")
    fake.reply(200, {"task": {"task_id": "t1", "arguments": envelope, "payload_codec": "avro"}})
    task = await client.poll_workflow_task(worker_id="w", task_queue="q", timeout=1)
    assert task is not None and task["arguments"] == envelope


@pytest.mark.parametrize("threshold", [0, -1, 1.5, True, "64"])
def test_the_threshold_must_be_a_positive_integer(threshold: Any) -> None:
    with pytest.raises(ValueError, match="external_storage_threshold_bytes"):
        Client("http://dw.test", external_storage_threshold_bytes=threshold)


async def test_a_driver_gets_a_default_cache(storage: LocalFilesystemExternalStorage) -> None:
    async with Client("http://dw.test", external_storage=storage) as client:
        assert isinstance(client.external_storage_cache, ExternalPayloadCache)
        assert client.payload_resolver is not None and client.payload_resolver.driver is storage
    async with Client("http://dw.test") as plain:
        assert plain.external_storage_cache is None and plain.payload_resolver is None


async def test_worker_commands_and_activity_results_over_the_threshold_go_external(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(external_storage=storage, external_storage_threshold_bytes=1024)
    fake.reply(200, {"task_id": "t1", "outcome": "completed", "recorded": True})
    small = codec.envelope(["ok"])
    await client.complete_workflow_task(
        task_id="t1",
        lease_owner="w",
        workflow_task_attempt=1,
        commands=[
            {"type": "schedule_activity", "activity_type": "a", "arguments": codec.envelope([BIG])},
            {"type": "complete_workflow", "result": small},
        ],
    )
    scheduled, completed = fake.body_of(fake.last)["commands"]
    assert scheduled["type"] == "schedule_activity" and scheduled["activity_type"] == "a"
    reference = ExternalPayloadReference.from_dict(scheduled["arguments"]["external_storage"])
    assert fetch_external_blob(storage, reference) == codec.encode([BIG])
    assert completed == {"type": "complete_workflow", "result": small}

    fake.reply(200, {"task_id": "a1", "outcome": "completed", "recorded": True})
    await client.complete_activity_task(task_id="a1", activity_attempt_id="at", lease_owner="w", result=BIG)
    sent = fake.body_of(fake.last)["result"]
    assert codec.decode(fetch_external_blob(storage, sent["external_storage"])) == BIG


async def test_without_a_driver_worker_commands_are_sent_as_built(
    fake: Any, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    fake.reply(200, {"task_id": "t1", "outcome": "completed", "recorded": True})
    command = {"type": "complete_workflow", "result": codec.envelope([BIG])}
    await client.complete_workflow_task(
        task_id="t1", lease_owner="w", workflow_task_attempt=1, commands=[command]
    )
    assert fake.body_of(fake.last)["commands"] == [command]


async def test_user_data_shaped_like_a_reference_is_left_alone(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    client = make_client(external_storage=storage)
    real = store_external_blob(storage, codec.encode([BIG]), codec="avro")
    body = _describe(real)
    body["memo"] = {"doc": dict(real), "odd": {"codec": "avro", "external_storage": "user value"}}
    body["search_attributes"] = {"Ref": STORED_REFERENCE_PREFIX + "not-base64!"}
    fake.reply(200, body)
    described = await client.describe_workflow("wf")
    assert described.input == [BIG]  # the payload position is resolved...
    assert described.memo == body["memo"]  # ...memo and search attributes are user data
    assert described.search_attributes == body["search_attributes"]


async def test_an_export_bundle_keeps_its_references(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    # The bundle's checksum covers the references as stored; resolving them would break it.
    client = make_client(external_storage=storage)
    reference = store_external_blob(storage, codec.encode("done"), codec="avro")
    bundle = {
        "schema": "durable-workflow.v2.history-export",
        "events": [{"event_type": "WorkflowCompleted", "payload": {"output": dict(reference)}}],
        "integrity": {"checksum": "abc"},
    }
    fake.reply(200, bundle)
    assert await client.export_history("wf", "r1") == bundle


async def test_a_driver_alone_only_resolves(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    # As in SDK 0.4.84: without a threshold nothing is uploaded (the server may not share the
    # storage), but references in answers are still read.
    client = make_client(external_storage=storage)
    assert client.external_storage_threshold_bytes is None
    _started(fake)
    await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf", input=[BIG])
    assert fake.body_of(fake.last)["input"] == codec.envelope([BIG])
    assert not storage.root.exists()


async def test_the_threshold_boundary(
    fake: Any, make_client: Callable[..., Client], storage: LocalFilesystemExternalStorage
) -> None:
    size = len(codec.encode([BIG]))
    at = make_client(external_storage=storage, external_storage_threshold_bytes=size)
    _started(fake)
    await at.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf", input=[BIG])
    assert fake.body_of(fake.last)["input"] == codec.envelope([BIG])  # at the threshold: inline
    below = make_client(external_storage=storage, external_storage_threshold_bytes=size - 1)
    _started(fake)
    await below.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf", input=[BIG])
    assert set(fake.body_of(fake.last)["input"]) == {"codec", "external_storage"}
