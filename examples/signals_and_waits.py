"""Signals and condition waits against a running server, as the product docs write them.

A workflow waits with ``ctx.wait_condition`` for an ``approve`` signal (sent once the server
shows it waiting); a second one waits with a one-second timeout that nobody satisfies. The same
file runs with this project's SDK and with the official ``durable-workflow==0.4.84`` (the
interop script runs it with both); the server URL comes from ``DURABLE_WORKFLOW_SERVER_URL``.
"""

import asyncio
import os

from durable_workflow import Client, Worker, workflow

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")


@workflow.defn(name="approval")
class Approval:
    def __init__(self):
        self.approved_by = None

    @workflow.signal("approve")
    def approve(self, by):
        self.approved_by = by

    def run(self, ctx, timeout):
        approved = yield ctx.wait_condition(
            lambda: self.approved_by is not None, key="approved", timeout=timeout
        )
        return {"approved": approved, "by": self.approved_by}


async def waiting(client, workflow_id):
    for _ in range(300):
        if (await client.describe_workflow(workflow_id)).status == "waiting":
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{workflow_id} never waited")


async def main():
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        approved = await client.start_workflow(
            workflow_type="approval", task_queue="approvals", workflow_id="approval-1", input=[60]
        )
        expired = await client.start_workflow(
            workflow_type="approval", task_queue="approvals", workflow_id="approval-2", input=[1]
        )
        worker = Worker(client, task_queue="approvals", workflows=[Approval])
        running = asyncio.create_task(worker.run())
        try:
            await waiting(client, "approval-1")
            await client.signal_workflow("approval-1", "approve", args=["ada"])
            first = await approved.result(timeout=30.0)
            second = await expired.result(timeout=30.0)
        finally:
            await worker.stop()
            await running
        print({"signalled": first, "timed_out": second})


asyncio.run(main())
