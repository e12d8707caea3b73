"""Task handlers run on an explicit ``TaskRuntime``: no ``Worker`` is needed to drive one."""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from typing import Any, cast

import pytest

from durable_workflow import _wire, activity, workflow
from durable_workflow.activity import get_definition as activity_definition
from durable_workflow.interceptors import PassthroughWorkerInterceptor
from durable_workflow.protocol import codec
from durable_workflow.protocol.wire import HistoryPage, WorkflowTask
from durable_workflow.worker._activity_tasks import handle_activity_task
from durable_workflow.worker._runtime import DeliveryPolicy, TaskRuntime
from durable_workflow.worker._workflow_tasks import handle_workflow_task
from durable_workflow.workflow._definition import get_definition
from tests.helpers.worker_fakes import FakeClient


@activity.defn(name="double")
async def double(value: int) -> int:
    return value * 2


@workflow.defn(name="doubler")
class Doubler:
    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("double", [value]))


def _runtime(client: FakeClient, progress: list[str]) -> TaskRuntime:
    return TaskRuntime(
        client=client,
        worker_id="w1",
        task_queue="default",
        workflows={"doubler": get_definition(Doubler)},
        activities={"double": activity_definition(double)},
        interceptors=(),
        delivery=DeliveryPolicy(retry_timeout=1.0, backoff=0.01, backoff_max=0.01),
        notify_progress=progress.append,
    )


async def test_the_handlers_drive_a_workflow_through_the_runtime_alone() -> None:
    client = FakeClient()
    progress: list[str] = []
    runtime = _runtime(client, progress)
    client.start("doubler", "wf-1", [21])

    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_workflow_task(runtime, task) == "completed"
    assert progress == ["wf-1"]

    activity_task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert activity_task is not None
    assert await handle_activity_task(runtime, activity_task) == "completed"
    assert [c["result"] for c in client.calls_to("complete_activity_task")] == [42]

    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_workflow_task(runtime, task) == "completed"
    assert client.runs["wf-1"].execution.status == "completed"
    assert client.runs["wf-1"].execution.output == 42
    assert progress == ["wf-1", "wf-1"]


async def test_an_unregistered_activity_type_is_failed_through_the_runtime() -> None:
    client = FakeClient()
    runtime = _runtime(client, [])
    client.add_activity_task("missing", [])
    task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_activity_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_activity_task")
    assert (failure["failure_type"], failure["lease_owner"]) == ("UnknownActivityType", "w1")


def _compressed(events: list[dict[str, Any]]) -> str:
    return base64.b64encode(zlib.compress(json.dumps(events).encode())[2:-4]).decode()


async def test_a_compressed_first_page_is_inflated_once_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    runtime = _runtime(client, [])
    client.start("doubler", "wf-z", [4])
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    task["history_events_compressed"] = _compressed(list(task.get("history_events", [])))
    task["history_events_encoding"] = "deflate"
    task["history_events"] = []
    inflated: list[str] = []
    original = _wire._inflate

    def counting(blob: object, encoding: str) -> list[Any]:
        inflated.append(encoding)
        return original(blob, encoding)

    monkeypatch.setattr(_wire, "_inflate", counting)
    assert await handle_workflow_task(runtime, task) == "completed"
    assert inflated == ["deflate"]
    (completion,) = client.calls_to("complete_workflow_task")
    assert [c["type"] for c in completion["commands"]] == ["schedule_activity"]


@pytest.mark.parametrize(
    ("blob", "encoding"),
    [
        ("not base64 !", "deflate"),  # binascii
        (base64.b64encode(b"not deflate data").decode(), "deflate"),  # zlib
        (base64.b64encode(b"not gzip data").decode(), "gzip"),  # gzip
        (base64.b64encode(zlib.compress(b"{not json")[2:-4]).decode(), "deflate"),  # JSON
        (base64.b64encode(zlib.compress(b"\xff\xfe")[2:-4]).decode(), "deflate"),  # UTF-8
    ],
)
async def test_a_corrupt_compressed_history_fails_the_task_instead_of_crashing(
    blob: str, encoding: str
) -> None:
    client = FakeClient()
    runtime = _runtime(client, [])
    task: WorkflowTask = {
        "task_id": "wt-bad",
        "workflow_id": "wf-bad",
        "run_id": "r",
        "workflow_type": "doubler",
        "workflow_task_attempt": 3,
        "payload_codec": "avro",
        "lease_owner": "w1",
        "history_events_compressed": blob,
        "history_events_encoding": encoding,
    }
    assert await handle_workflow_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_workflow_task")
    assert (failure["task_id"], failure["lease_owner"], failure["workflow_task_attempt"]) == (
        "wt-bad",
        "w1",
        3,
    )
    assert failure["failure_type"] == "MalformedTask"
    assert "history_events_compressed" in failure["message"]
    assert client.calls_to("complete_workflow_task") == []


async def test_activity_arguments_that_are_no_payload_fail_the_attempt_for_good() -> None:
    client = FakeClient()
    runtime = _runtime(client, [])
    client.add_activity_task("double", [1])
    task = await client.poll_activity_task(worker_id="w1", task_queue="default")
    assert task is not None
    task["arguments"] = cast("Any", [1, 2])
    assert await handle_activity_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_activity_task")
    assert (failure["task_id"], failure["activity_attempt_id"]) == (
        task.get("task_id"),
        "att-" + str(task.get("task_id")),
    )
    assert (failure["kind"], failure["non_retryable"]) == ("decode_failure", True)
    assert "not a payload envelope" in failure["message"]


class CorruptPagesClient(FakeClient):
    """Serves the pages after the first with a compressed blob that is not deflate data."""

    async def workflow_task_history(
        self, *, task_id: str, next_history_page_token: str, lease_owner: str, workflow_task_attempt: int
    ) -> HistoryPage:
        await super().workflow_task_history(
            task_id=task_id,
            next_history_page_token=next_history_page_token,
            lease_owner=lease_owner,
            workflow_task_attempt=workflow_task_attempt,
        )
        junk = base64.b64encode(b"junk").decode()
        return {"history_events_encoding": "deflate", "history_events_compressed": junk}


async def test_a_corrupt_later_history_page_fails_the_task() -> None:
    client = CorruptPagesClient(history_page_size=1)
    runtime = _runtime(client, [])
    client.start("doubler", "wf-p", [1])
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_workflow_task(runtime, task) == "failed"
    (failure,) = client.calls_to("fail_workflow_task")
    assert failure["failure_type"] == "MalformedTask"
    assert failure["message"].startswith("a history page cannot be read")


async def test_a_task_handed_on_changed_by_an_interceptor_is_read_again() -> None:
    class Rewriting(PassthroughWorkerInterceptor):
        async def execute_workflow_task(self, context: Any, next: Any) -> Any:
            changed = {**context.task, "arguments": codec.envelope([5])}
            return await next(dataclasses.replace(context, task=changed))

    client = FakeClient()
    runtime = dataclasses.replace(_runtime(client, []), interceptors=(Rewriting(),))
    client.start("doubler", "wf-i", [21])
    task = await client.poll_workflow_task(worker_id="w1", task_queue="default")
    assert task is not None
    assert await handle_workflow_task(runtime, task) == "completed"
    (completion,) = client.calls_to("complete_workflow_task")
    assert codec.decode_envelope(completion["commands"][0]["arguments"]) == [5]
