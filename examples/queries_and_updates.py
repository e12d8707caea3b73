"""A query and an update with a validator against a running server, as the product docs write them.

The docs' ApprovalWorkflow waits for its approval; the program queries it while it waits, sends
an update its validator refuses, then one that approves it. The same file runs with this
project's SDK and with the official ``durable-workflow==0.4.84`` (the interop script runs it
with both): 0.4.84's client answers queries and updates with the whole response body, ours with
the decoded result, and a refused update is ``UpdateRejected`` with our worker (validated
before acceptance) or ``InvalidArgument`` with 0.4.84's (validated after acceptance).
"""

import asyncio
import os

from durable_workflow import Client, Worker, workflow

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")


@workflow.defn(name="approval")
class ApprovalWorkflow:
    def __init__(self):
        self.approved = False

    @workflow.query("status")
    def status(self):
        return {"approved": self.approved}

    @workflow.update("set_approval")
    def set_approval(self, approved):
        self.approved = approved
        return {"approved": self.approved}

    @set_approval.validator
    def validate_set_approval(self, approved):
        if not isinstance(approved, bool):
            raise ValueError("approved must be boolean")

    def run(self, ctx):
        yield ctx.wait_condition(lambda: self.approved, key="approved")
        return {"approved": self.approved}


def value(answer):
    """The decoded result, whichever SDK answered (0.4.84 returns the whole body)."""
    if isinstance(answer, dict) and "control_plane" in answer:
        return answer.get("result")
    return answer


async def waiting(client, workflow_id):
    for _ in range(300):
        if (await client.describe_workflow(workflow_id)).status == "waiting":
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{workflow_id} never waited")


async def main():
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        handle = await client.start_workflow(
            workflow_type="approval", task_queue="approvals", workflow_id="approval-qu-1"
        )
        worker = Worker(client, task_queue="approvals", workflows=[ApprovalWorkflow])
        running = asyncio.create_task(worker.run())
        try:
            await waiting(client, "approval-qu-1")
            status = value(await client.query_workflow("approval-qu-1", "status"))
            try:
                await client.update_workflow(
                    "approval-qu-1", "set_approval", args=["yes"], wait_for="completed"
                )
                refused = None
            except Exception as exc:  # UpdateRejected (ours) or InvalidArgument (0.4.84)
                refused = "approved must be boolean" in str(exc)
            update = value(
                await client.update_workflow(
                    "approval-qu-1", "set_approval", args=[True], wait_for="completed"
                )
            )
            result = await handle.result(timeout=30.0)
            final = value(await client.query_workflow("approval-qu-1", "status"))
        finally:
            await worker.stop()
            await running
        print({"status": status, "refused": refused, "update": update, "result": result, "final": final})


asyncio.run(main())
