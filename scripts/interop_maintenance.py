"""Interop program for the official SDK ``durable-workflow==0.4.84`` (run by ``scripts/interop``).

The official SDK drives the admin-only system maintenance routes of our server over a real
socket, with role tokens (``DW_ADMIN_TOKEN``, ``DW_OPERATOR_TOKEN``, ``DW_WORKER_TOKEN``, set by
``scripts/interop``): its Worker finishes a workflow, then ``repair_status`` / ``repair_pass``,
``retention_status`` / ``retention_pass`` and ``activity_timeout_status`` / ``activity_timeout_pass``
answer the documented reports, a repeated pass answers zero counters, an operator token is
refused, bad input is refused, a finished run inside its retention window is kept, and another
namespace's pass does not see it. (Pruning itself needs time to pass, which a real server's
clock does not do on request: the tests drive it with an injected clock.) The program checks
every answer and exits non-zero on the first surprise.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import DurableWorkflowError, InvalidArgument, ServerError

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
ADMIN = os.environ["DW_ADMIN_TOKEN"]
OPERATOR = os.environ["DW_OPERATOR_TOKEN"]
WORKER = os.environ["DW_WORKER_TOKEN"]
QUEUE = "interop-maintenance"
OTHER_NAMESPACE = "interop-maintenance"


def fail(message: str) -> None:
    print(f"interop maintenance: {message}", file=sys.stderr)
    sys.exit(1)


def expect(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


@activity.defn(name="interop_maint_greet")
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn(name="interop_maint_greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        return (yield ctx.schedule_activity("interop_maint_greet", [name]))


async def finished_run(admin: Client, namespace: str, workflow_id: str) -> str:
    """Start a workflow in ``namespace`` and let a 0.4.84 Worker finish it; its run id."""
    async with Client(SERVER_URL, control_token=ADMIN, worker_token=WORKER, namespace=namespace) as client:
        worker = Worker(client, task_queue=QUEUE, workflows=[Greeter], activities=[greet], poll_timeout=5.0)
        running = asyncio.create_task(worker.run())
        try:
            handle = await client.start_workflow(
                workflow_type="interop_maint_greeter",
                task_queue=QUEUE,
                workflow_id=workflow_id,
                input=["Ada"],
            )
            result = await client.get_result(handle, timeout=30.0)
        finally:
            await worker.stop()
            await asyncio.wait_for(running, 40.0)
        expect(result == "Hello, Ada!", f"the workflow returned {result!r}")
        return str(handle.run_id)


async def refused(
    call: Any, expected: type[DurableWorkflowError], what: str, status: int | None = None
) -> None:
    """``call`` must fail with ``expected`` (0.4.84 raises ServerError with ``status`` 403 for a
    role refusal, InvalidArgument for 422)."""
    try:
        await call
    except expected as exc:
        got = getattr(exc, "status", None)
        expect(status is None or got == status, f"{what}: expected HTTP {status}, got {got}")
        return
    except DurableWorkflowError as exc:
        fail(f"{what}: expected {expected.__name__}, got {exc!r}")
    fail(f"{what}: expected {expected.__name__}, the call succeeded")


async def main() -> None:
    async with (
        Client(SERVER_URL, control_token=ADMIN, worker_token=WORKER) as admin,
        Client(SERVER_URL, control_token=OPERATOR, worker_token=WORKER) as operator,
    ):
        run_id = await finished_run(admin, "default", "interop-maint-1")

        await refused(operator.repair_status(), ServerError, "an operator token on repair_status", 403)
        await refused(operator.retention_pass(), ServerError, "an operator token on retention_pass", 403)
        await refused(
            admin.repair_pass(run_ids=[f"r-{i}" for i in range(101)]), InvalidArgument, "101 run ids"
        )
        await refused(admin.retention_pass(limit=0), InvalidArgument, "a retention limit of 0")

        status = await admin.repair_status()
        expect(status["policy"]["scan_limit"] == 100, f"repair policy: {status['policy']}")
        expect(status["candidates"]["total_candidates"] == 0, f"repair candidates: {status['candidates']}")
        for _ in range(2):  # a repeated pass is all zeros
            report = await admin.repair_pass()
            expect(report["dispatched_tasks"] == 0, f"repair pass: {report}")
            expect(
                report["existing_task_failures"] == [] and report["missing_run_failures"] == [], str(report)
            )

        retention = await admin.retention_status()
        expect(
            retention["retention_days"] == 30 and retention["expired_run_ids"] == [],
            f"retention: {retention}",
        )
        kept = await admin.retention_pass(run_ids=[run_id])
        expect(
            kept["pruned"] == 0 and kept["results"][0]["reason"] == "run_not_expired",
            f"retention pass: {kept}",
        )

        timeouts = await admin.activity_timeout_status()
        expect(timeouts["expired_count"] == 0, f"activity timeouts: {timeouts}")
        enforced = await admin.activity_timeout_pass(limit=10)
        expect((enforced["processed"], enforced["enforced"]) == (0, 0), f"activity timeout pass: {enforced}")

        # Another namespace's passes never see this one's run.
        await admin.create_namespace(OTHER_NAMESPACE, description="interop maintenance", retention_days=1)
        async with Client(SERVER_URL, control_token=ADMIN, namespace=OTHER_NAMESPACE) as scoped:
            window = await scoped.retention_status()
            expect(window["retention_days"] == 1 and window["expired_run_ids"] == [], f"retention: {window}")
            foreign = await scoped.retention_pass(run_ids=[run_id])
            expect(foreign["results"][0]["reason"] == "run_not_found", f"another namespace's pass: {foreign}")
        described = await admin.describe_workflow("interop-maint-1")
        expect(described.status == "completed", f"the run after every pass: {described}")
        print({"repaired": report["dispatched_tasks"], "kept": kept["results"][0]["reason"],
               "foreign": foreign["results"][0]["reason"]})  # fmt: skip


asyncio.run(main())
