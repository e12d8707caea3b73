"""Child workflows against a running server, as the product docs write them.

A parent on queue ``default`` starts two children on ``child-queue`` (one worker per queue):
one that returns a value, one that fails and is caught as ``ChildWorkflowFailed``. The same
file runs with this project's SDK and with the official ``durable-workflow==0.4.84`` (the
interop script runs it with both); the server URL comes from ``DURABLE_WORKFLOW_SERVER_URL``.
"""

import asyncio
import os

from durable_workflow import ChildWorkflowFailed, ChildWorkflowRetryPolicy, Client, Worker, activity, workflow

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")


@activity.defn(name="shout")
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn(name="child-workflow-type")
class ChildWorkflow:
    def run(self, ctx, payload):
        shouted = yield ctx.schedule_activity("shout", [payload["input"]])
        return {"child_saw": shouted}


@workflow.defn(name="failing-child")
class FailingChild:
    def run(self, ctx):
        yield ctx.start_timer(0)
        raise ValueError("the child gave up")


@workflow.defn(name="parent-workflow")
class ParentWorkflow:
    def run(self, ctx):
        result = yield ctx.start_child_workflow(
            "child-workflow-type",
            [{"input": "data"}],
            task_queue="child-queue",
            parent_close_policy="terminate",
            retry_policy=ChildWorkflowRetryPolicy(
                max_attempts=3,
                initial_interval_seconds=2,
                backoff_coefficient=2,
                non_retryable_error_types=["ValidationError"],
            ),
            execution_timeout_seconds=600,
            run_timeout_seconds=120,
        )
        try:
            yield ctx.start_child_workflow("failing-child", [], task_queue="child-queue")
            caught = None
        except ChildWorkflowFailed as failure:
            caught = str(failure)
        return {"result": result, "caught": caught}


async def main():
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        handle = await client.start_workflow(
            workflow_type="parent-workflow", task_queue="default", workflow_id="parent-1"
        )
        children = Worker(
            client, task_queue="child-queue", workflows=[ChildWorkflow, FailingChild], activities=[shout]
        )
        child_worker = asyncio.create_task(children.run())
        parents = Worker(client, task_queue="default", workflows=[ParentWorkflow])
        try:
            await parents.run_until(workflow_id="parent-1", timeout=30.0)
        finally:
            await children.stop()
            await child_worker
        print(await handle.result(timeout=10.0))


asyncio.run(main())
