"""Interop program for the official SDK ``durable-workflow==0.4.84`` (run by ``scripts/interop``).

The official SDK is both the client and the worker here, against our server over a real socket:
a workflow waits on ``ctx.wait_condition`` for a signal, answers a query while it waits (the
client's query goes through the server's query-task path to the worker), takes an update whose
validator rejects bad input, fans out two activities and returns. The program checks the result,
that each activity ran exactly once, and what history recorded, and exits non-zero otherwise.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import time
from typing import Any

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import DurableWorkflowError

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
QUEUE = "interop-features"
RUNS: collections.Counter[str] = collections.Counter()


@activity.defn(name="interop_charge")
async def charge(order_id: str, limit: int) -> dict:
    RUNS["interop_charge"] += 1
    return {"charged": order_id, "limit": limit}


@activity.defn(name="interop_notify")
async def notify(approved_by: str) -> str:
    RUNS["interop_notify"] += 1
    return f"notified {approved_by}"


@workflow.defn(name="interop-approval")
class ApprovalFlow:
    def __init__(self) -> None:
        self.approved_by: str | None = None
        self.limit = 0

    @workflow.signal("approve")
    def approve(self, by: str) -> None:
        self.approved_by = by

    @workflow.query("status")
    def status(self) -> dict:
        return {"approved_by": self.approved_by, "limit": self.limit}

    @workflow.update("set_limit")
    def set_limit(self, limit: int) -> dict:
        self.limit = limit
        return {"limit": limit}

    @set_limit.validator
    def validate_set_limit(self, limit: int) -> None:
        if not isinstance(limit, int) or limit <= 0:
            raise ValueError("limit must be a positive integer")

    def run(self, ctx, order_id):
        approved = yield ctx.wait_condition(lambda: self.approved_by is not None, key="approval", timeout=300)
        results = yield [
            ctx.schedule_activity("interop_charge", [order_id, self.limit]),
            ctx.schedule_activity("interop_notify", [self.approved_by]),
        ]
        return {"approved": approved, "by": self.approved_by, "limit": self.limit, "results": results}


def fail(message: str) -> None:
    print(f"interop features: {message}", file=sys.stderr)
    raise SystemExit(1)


def result_of(answer: Any) -> Any:
    """0.4.84 returns the whole JSON answer of a query or an update; the value is ``result``."""
    return answer.get("result") if isinstance(answer, dict) else answer


async def events_of(client: Client, workflow_id: str, run_id: str) -> list[dict]:
    page = await client.get_history(workflow_id, run_id)
    return list(page.get("events", []))


async def wait_for_event(client: Client, workflow_id: str, run_id: str, event_type: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(e.get("event_type") == event_type for e in await events_of(client, workflow_id, run_id)):
            return
        await asyncio.sleep(0.1)
    fail(f"history of {workflow_id} never recorded {event_type}")


async def main() -> None:
    workflow_id = f"interop-approval-{os.getpid()}"
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[ApprovalFlow],
            activities=[charge, notify],
            poll_timeout=5.0,
        )
        running = asyncio.create_task(worker.run())
        try:
            handle = await client.start_workflow(
                workflow_type="interop-approval", task_queue=QUEUE, workflow_id=workflow_id, input=["order-7"]
            )
            run_id = handle.run_id
            await wait_for_event(client, workflow_id, run_id, "ConditionWaitOpened")

            status = result_of(await client.query_workflow(workflow_id, "status"))
            if status != {"approved_by": None, "limit": 0}:
                fail(f"query while waiting answered {status!r}")
            print("query while waiting:", status)

            try:
                await client.update_workflow(workflow_id, "set_limit", args=[0], wait_for="completed")
            except DurableWorkflowError as exc:
                if "positive integer" not in str(exc):
                    fail(f"the rejected update failed with the wrong message: {exc!r}")
                print("update rejected by its validator:", type(exc).__name__, exc)
            else:
                fail("set_limit(0) was not rejected by its validator")

            updated = result_of(
                await client.update_workflow(workflow_id, "set_limit", args=[5], wait_for="completed")
            )
            if updated != {"limit": 5}:
                fail(f"update answered {updated!r}")
            print("update completed:", updated)

            status = result_of(await client.query_workflow(workflow_id, "status"))
            if status != {"approved_by": None, "limit": 5}:
                fail(f"query after the update answered {status!r}")

            await client.signal_workflow(workflow_id, "approve", args=["alice"])
            result = await handle.result(timeout=30.0)
        finally:
            await worker.stop()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

        expected = {
            "approved": True,
            "by": "alice",
            "limit": 5,
            "results": [{"charged": "order-7", "limit": 5}, "notified alice"],
        }
        if result != expected:
            fail(f"the workflow returned {result!r}, expected {expected!r}")
        if RUNS != {"interop_charge": 1, "interop_notify": 1}:
            fail(f"activities ran {dict(RUNS)!r}; each must run exactly once")
        kinds = collections.Counter(e.get("event_type") for e in await events_of(client, workflow_id, run_id))
        if (
            kinds["ActivityScheduled"] != 2
            or kinds["SignalReceived"] != 1
            or kinds["ConditionWaitOpened"] != 1
        ):
            fail(f"unexpected history: {dict(kinds)!r}")
        if kinds["UpdateAccepted"] < 1 or kinds["WorkflowCompleted"] != 1:
            fail(f"unexpected history: {dict(kinds)!r}")
        print(result)


asyncio.run(main())
