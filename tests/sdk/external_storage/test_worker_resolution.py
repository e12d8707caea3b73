"""The worker's task handlers resolve external payloads, and fail the task when one was changed."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path
from typing import Any

from durable_workflow import activity, workflow
from durable_workflow._external_payloads import PayloadResolver
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


def test_only_payload_positions_of_a_task_are_resolved(tmp_path: Path) -> None:
    from durable_workflow._wire import WorkflowTaskRead

    storage = LocalFilesystemExternalStorage(tmp_path)
    resolver = PayloadResolver(storage)
    reference = _externalize(storage, [BIG])
    odd = {"codec": "avro", "external_storage": "a user's memo value"}
    raw = {
        "task_id": "wt",
        "payload_codec": "avro",
        "arguments": reference,
        "history_events": [
            {"event_type": "StartAccepted", "payload": {"memo": {"doc": odd, "copy": reference}}},
            {"event_type": "WorkflowStarted", "payload": {"arguments": reference, "memo": {"doc": odd}}},
        ],
    }
    task = WorkflowTaskRead.from_wire(raw, worker_id="w", task_queue="q", resolver=resolver)
    assert task.arguments == codec.envelope([BIG])
    accepted, started = task.first_page.events
    assert accepted["payload"] == {"memo": {"doc": odd, "copy": reference}}
    assert started["payload"]["arguments"] == codec.envelope([BIG])
    assert started["payload"]["memo"] == {"doc": odd}


class ReferencingClient(FakeClient):
    """Serves every task's arguments as an external-storage reference, as a server would."""

    def __init__(self, storage: LocalFilesystemExternalStorage) -> None:
        super().__init__()
        self.storage = storage
        self.payload_resolver = PayloadResolver(storage, ExternalPayloadCache())

    async def poll_workflow_task(self, **kwargs: Any) -> Any:
        task = await super().poll_workflow_task(**kwargs)
        if task is not None and isinstance(task.get("arguments"), dict):
            task["arguments"] = dict(
                store_external_blob(self.storage, task["arguments"]["blob"], codec="avro")
            )
        return task


async def test_a_worker_takes_the_resolver_of_its_client(tmp_path: Path) -> None:
    from durable_workflow import Worker

    storage = CountingStorage(tmp_path)
    client = ReferencingClient(storage)
    client.start("measurer", "wf-w", [BIG])
    worker = Worker(client, task_queue="default", workflows=[Measurer], activities=[measure])
    assert worker._runtime().payloads is client.payload_resolver
    execution = await worker.run_until(workflow_id="wf-w", timeout=5.0, poll_interval=0.02)
    assert execution.output == {"size": 5000, "head": "xxx"}
    assert storage.gets >= 1


async def test_query_tasks_resolve_references_and_refuse_changed_ones(tmp_path: Path) -> None:
    import asyncio

    from durable_workflow import Worker
    from tests.sdk.worker.test_query_tasks import Counter, query_task

    storage = LocalFilesystemExternalStorage(tmp_path)
    client = FakeClient()
    client.payload_resolver = PayloadResolver(storage)
    good = query_task("count", [2], task_id="qt-good")
    good["workflow_arguments"] = _externalize(storage, [5])  # type: ignore[typeddict-item]
    good["query_arguments"] = _externalize(storage, [2])  # type: ignore[typeddict-item]
    bad = query_task("count", [2], task_id="qt-bad")
    changed = _externalize(storage, [3])
    _mutate(storage, changed)
    bad["query_arguments"] = changed  # type: ignore[typeddict-item]

    worker = Worker(client, task_queue="default", workflows=[Counter], worker_id="w-1")
    runner = asyncio.create_task(worker.run())
    client.add_query_task(good)
    client.add_query_task(bad)
    await client.until(lambda: client.calls_to("complete_query_task") and client.calls_to("fail_query_task"))
    await worker.stop()
    await runner
    (answer,) = client.calls_to("complete_query_task")
    assert answer["query_task_id"] == "qt-good" and answer["result"] == 7
    (refusal,) = client.calls_to("fail_query_task")
    assert refusal["query_task_id"] == "qt-bad"
    assert refusal["reason"] == "query_payload_decode_failed"
    assert "mutated" in refusal["message"]
