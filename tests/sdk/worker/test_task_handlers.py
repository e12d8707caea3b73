"""Task handlers run on an explicit ``TaskRuntime``: no ``Worker`` is needed to drive one."""

from __future__ import annotations

from typing import Any

from durable_workflow import activity, workflow
from durable_workflow.activity import get_definition as activity_definition
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
