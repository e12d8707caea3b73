"""Interop program for the official SDK ``durable-workflow==0.4.84`` (run by ``scripts/interop``).

The official SDK drives task queues, build ids and the worker registry of our server over a real
socket: its Worker registers with a build id and runs a workflow; its Client lists and describes
the queue, reads the build-id rollout, drains the worker's cohort (a workflow started meanwhile
is not claimed), resumes it (the workflow then completes), promotes the cohort, lists, describes
and deregisters the worker. The program checks every answer and exits non-zero otherwise.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.errors import DurableWorkflowError

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
QUEUE = "interop-task-queues"
BUILD = "interop-build-1"
WORKER_ID = f"interop-tq-worker-{os.getpid()}"


@activity.defn(name="interop_shout")
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn(name="interop-shout")
class ShoutFlow:
    def run(self, ctx: Any, text: str) -> Any:
        return (yield ctx.schedule_activity("interop_shout", [text]))


def fail(message: str) -> None:
    print(f"interop task queues: {message}", file=sys.stderr)
    raise SystemExit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


async def start(client: Client, workflow_id: str, text: str) -> Any:
    return await client.start_workflow(
        workflow_type="interop-shout", task_queue=QUEUE, workflow_id=workflow_id, input=[text]
    )


async def main() -> None:
    suffix = os.getpid()
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[ShoutFlow],
            activities=[shout],
            worker_id=WORKER_ID,
            build_id=BUILD,
            poll_timeout=2.0,
        )
        running = asyncio.create_task(worker.run())
        try:
            first = await start(client, f"interop-tq-1-{suffix}", "a")
            check(await first.result(timeout=30.0) == "A", "the first workflow did not return 'A'")

            listed = await client.list_task_queues()
            names = [queue.name for queue in listed.task_queues]
            check(QUEUE in names, f"list_task_queues did not name {QUEUE}: {names!r}")
            [item] = [queue for queue in listed.task_queues if queue.name == QUEUE]
            admission = item.admission.workflow_tasks if item.admission else None
            check(admission is not None and admission.status == "accepting", f"admission: {admission!r}")
            print("list_task_queues:", names, admission.status if admission else None)

            described = await client.describe_task_queue(QUEUE)
            pollers = {p.get("worker_id"): p for p in described.pollers or []}
            check(WORKER_ID in pollers, f"describe_task_queue pollers: {list(pollers)!r}")
            check(pollers[WORKER_ID].get("build_id") == BUILD, f"poller: {pollers[WORKER_ID]!r}")
            stats = described.stats or {}
            check("workflow_tasks" in stats and "approximate_backlog_count" in stats, f"stats: {stats!r}")
            print("describe_task_queue:", described.name, stats.get("approximate_backlog_count"))

            rollout = await client.list_task_queue_build_ids(QUEUE)
            cohorts = {c.build_id: c for c in rollout.build_ids}
            check(BUILD in cohorts and cohorts[BUILD].rollout_status == "active", f"rollout: {cohorts!r}")
            check(cohorts[BUILD].active_worker_count >= 1, f"cohort: {cohorts[BUILD]!r}")
            print("list_task_queue_build_ids:", [(c.build_id, c.rollout_status) for c in rollout.build_ids])

            drained = await client.drain_task_queue_build_id(QUEUE, BUILD)
            check(drained.drain_intent == "draining" and drained.drained_at, f"drain answered {drained!r}")
            second = await start(client, f"interop-tq-2-{suffix}", "b")
            # The drained build's worker keeps polling but must not claim the new workflow's task.
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                queue = await client.describe_task_queue(QUEUE)
                leases = [x for x in queue.current_leases or [] if x.get("task_type") == "workflow"]
                check(not leases, f"a drained build claimed a workflow task: {leases!r}")
                await asyncio.sleep(0.2)
            described_worker = await client.describe_worker(WORKER_ID)
            status = described_worker.status
            check(status == "draining", f"worker status while drained: {status}")
            print("drain: nothing claimed while draining")

            resumed = await client.resume_task_queue_build_id(QUEUE, BUILD)
            check(resumed.drain_intent == "active" and not resumed.drained_at, f"resume answered {resumed!r}")
            check(
                await second.result(timeout=30.0) == "B",
                "the second workflow did not return 'B' after resume",
            )
            print("resume: the waiting workflow completed")

            promoted = await client.promote_task_queue_build_id(QUEUE, BUILD)
            check(promoted.new_start_selected and promoted.promoted_at, f"promote answered {promoted!r}")
            third = await start(client, f"interop-tq-3-{suffix}", "c")
            check(
                await third.result(timeout=30.0) == "C", "a run pinned to the promoted build did not complete"
            )
            print("promote: new runs pinned to", promoted.build_id)

            workers = await client.list_workers(task_queue=QUEUE)
            ids = [w.worker_id for w in workers.workers]
            check(WORKER_ID in ids, f"list_workers: {ids!r}")
            described_worker = await client.describe_worker(WORKER_ID)
            check(
                described_worker.build_id == BUILD, f"describe_worker build id: {described_worker.build_id}"
            )
            check(described_worker.supported_workflow_types == ["interop-shout"], "declared workflow types")
            check(described_worker.supported_activity_types == ["interop_shout"], "declared activity types")
            check(bool(described_worker.sdk_version), "describe_worker has no sdk_version")
            print(
                "describe_worker:",
                described_worker.worker_id,
                described_worker.sdk_version,
                described_worker.status,
            )
        finally:
            await worker.stop()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

        removed = await client.deregister_worker(WORKER_ID)
        check(removed.get("outcome") == "deregistered", f"deregister answered {removed!r}")
        again = await client.deregister_worker(WORKER_ID)
        check(again.get("outcome") == "already_absent", f"a repeated deregister answered {again!r}")
        try:
            await client.describe_worker(WORKER_ID)
        except DurableWorkflowError:
            pass
        else:
            fail("describe_worker found a deregistered worker")
        print("deregister_worker: deregistered, then already_absent")
        print("task queues ok")


asyncio.run(main())
