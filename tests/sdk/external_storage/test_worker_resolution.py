"""The worker's task handlers resolve external payloads, and fail the task when one was changed."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path
from typing import Any

from durable_workflow import activity, workflow
from durable_workflow._wire import PayloadResolver
from durable_workflow.activity import get_definition as activity_definition
from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import (
    ExternalPayloadCache,
    ExternalPayloadReference,
    LocalFilesystemExternalStorage,
    store_external_blob,
)
from durable_workflow.worker._activity_tasks import handle_activity_task
from durable_workflow.worker._runtime import DeliveryPolicy, TaskRuntime
from durable_workflow.worker._workflow_tasks import handle_workflow_task
from durable_workflow.workflow._definition import get_definition
from tests.helpers.worker_fakes import FakeClient

BIG = "x" * 5000


@activity.defn(name="measure")
async def measure(text: str) -> int:
    return len(text)


@workflow.defn(name="measurer")
class Measurer:
    def run(self, ctx: Any, text: str) -> Any:
        size = yield ctx.schedule_activity("measure", [text])
        return {"size": size, "head": text[:3]}


class CountingStorage(LocalFilesystemExternalStorage):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gets = 0

    def get(self, uri: str) -> bytes:
        self.gets += 1
        return super().get(uri)


def _runtime(client: FakeClient, storage: LocalFilesystemExternalStorage) -> TaskRuntime:
    return TaskRuntime(
        client=client,
        worker_id="w1",
        task_queue="default",
        workflows={"measurer": get_definition(Measurer)},
        activities={"measure": activity_definition(measure)},
        interceptors=(),
        delivery=DeliveryPolicy(retry_timeout=1.0, backoff=0.01, backoff_max=0.01),
        notify_progress=lambda _: None,
        payloads=PayloadResolver(storage, ExternalPayloadCache()),
    )


def _externalize(storage: LocalFilesystemExternalStorage, value: Any) -> dict[str, Any]:
    return dict(store_external_blob(storage, codec.encode(value), codec="avro"))


def _mutate(storage: LocalFilesystemExternalStorage, envelope: dict[str, Any]) -> None:
    path = storage.path_for(ExternalPayloadReference.from_dict(envelope["external_storage"]).uri)
    data = bytearray(path.read_bytes())
    data[-2] ^= 1  # same size, other digest
    path.write_bytes(bytes(data))


async def test_externally_stored_workflow_input_and_history_reach_the_code(tmp_path: Path) -> None:
    storage = CountingStorage(tmp_path)
    client = FakeClient()
    runtime = _runtime(client, storage)
    client.start("measurer", "wf-1", [BIG])

    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    task["arguments"] = _externalize(storage, [BIG])  # type: ignore[typeddict-item]
    assert await handle_workflow_task(runtime, task) == "completed"
    (first,) = client.calls_to("complete_workflow_task")
    assert codec.decode_envelope(first["commands"][0]["arguments"]) == [BIG]

    activity_task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert activity_task is not None
    activity_task["arguments"] = _externalize(storage, [BIG])  # type: ignore[typeddict-item]
    assert await handle_activity_task(runtime, activity_task) == "completed"
    (done,) = client.calls_to("complete_activity_task")
    assert done["result"] == 5000

    # The second task: the history's ActivityCompleted result is a reference in the blob's
    # place, and the page arrives compressed, so it is resolved after inflating.
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    events = [dict(e) for e in task.get("history_events", [])]
    for event in events:
        if event["event_type"] == "ActivityCompleted":
            event["payload"] = {**event["payload"], "result": _externalize(storage, 5000)}
    task["arguments"] = _externalize(storage, [BIG])  # type: ignore[typeddict-item]
    task["history_events"] = []
    task["history_events_encoding"] = "deflate"
    task["history_events_compressed"] = base64.b64encode(
        zlib.compress(json.dumps(events).encode())[2:-4]
    ).decode()
    reads = storage.gets
    assert await handle_workflow_task(runtime, task) == "completed"
    assert storage.gets == reads + 2  # the argument and the result, each fetched once
    second = client.calls_to("complete_workflow_task")[-1]
    (command,) = second["commands"]
    assert command["type"] == "complete_workflow"
    assert codec.decode_envelope(command["result"]) == {"size": 5000, "head": "xxx"}


async def test_a_changed_workflow_input_fails_the_task_with_the_integrity_error(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    client = FakeClient()
    runtime = _runtime(client, storage)
    client.start("measurer", "wf-2", [BIG])
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    envelope = _externalize(storage, [BIG])
    _mutate(storage, envelope)
    task["arguments"] = envelope  # type: ignore[typeddict-item]
    assert await handle_workflow_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_workflow_task")
    assert failure["failure_type"] == "ExternalPayloadIntegrityError"
    assert "SHA-256" in failure["message"] and "mutated" in failure["message"]
    assert client.calls_to("complete_workflow_task") == []


async def test_a_missing_object_on_a_later_history_page_fails_the_task(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    client = FakeClient(history_page_size=1)
    runtime = _runtime(client, storage)
    client.start("measurer", "wf-3", [BIG])
    envelope = _externalize(storage, [BIG])
    storage.delete(ExternalPayloadReference.from_dict(envelope["external_storage"]).uri)
    run = client.runs["wf-3"]
    run.events[-1] = {**run.events[-1], "payload": {**run.events[-1]["payload"], "arguments": envelope}}
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_workflow_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_workflow_task")
    assert failure["failure_type"] == "ExternalPayloadIntegrityError"
    assert failure["message"].startswith("a history page cannot be read") and "missing" in failure["message"]


async def test_changed_activity_arguments_fail_the_attempt_for_good(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    client = FakeClient()
    runtime = _runtime(client, storage)
    client.add_activity_task("measure", [BIG])
    task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert task is not None
    envelope = _externalize(storage, [BIG])
    path = storage.path_for(ExternalPayloadReference.from_dict(envelope["external_storage"]).uri)
    path.write_bytes(path.read_bytes()[:10])  # truncated
    task["arguments"] = envelope  # type: ignore[typeddict-item]
    assert await handle_activity_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_activity_task")
    assert (failure["kind"], failure["non_retryable"]) == ("decode_failure", True)
    assert failure["failure_type"] == "ExternalPayloadIntegrityError"
    assert "truncated" in failure["message"]
    assert client.calls_to("complete_activity_task") == []
