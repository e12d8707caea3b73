"""The quickstart program of the product documentation.

Unchanged but for one thing: the server URL comes from ``DURABLE_WORKFLOW_SERVER_URL``
(default ``http://localhost:8080``), so ``make quickstart`` can point it at the embedded server.
The same file runs with this project's SDK and with the official ``durable-workflow==0.4.84``.
"""

import asyncio
import os

from durable_workflow import Client, Worker, activity, workflow

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")


@activity.defn(name="greet")
async def greet(name: str) -> dict:
    return {"greeting": f"Hello, {name}!", "length": len(name)}


@workflow.defn(name="greeter")
class GreeterWorkflow:
    def run(self, ctx, *args):
        result = yield ctx.schedule_activity("greet", list(args))
        return result


async def main():
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        handle = await client.start_workflow(
            workflow_type="greeter",
            task_queue="default",
            workflow_id="greeting-1",
            input=["world"],
        )

        worker = Worker(
            client,
            task_queue="default",
            workflows=[GreeterWorkflow],
            activities=[greet],
        )

        await worker.run_until(workflow_id="greeting-1", timeout=30.0)
        result = await handle.result(timeout=10.0)

        print(result)  # {"greeting": "Hello, world!", "length": 5}


asyncio.run(main())
