"""Interop program for the official SDK ``durable-workflow==0.4.84``: schedules (run by ``scripts/interop``).

Against our server over a real socket, the official SDK creates a schedule, describes and lists
it, pauses and resumes it, triggers it (the fired workflow runs on the official SDK's worker and
its result is read back), reads the audit history (one page and the iterator), deletes it and
reads the history that survived; a duplicate create and a describe of the deleted schedule
raise the SDK's typed errors. It checks each answer and exits non-zero on the first mismatch.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from durable_workflow import Client, ScheduleAction, ScheduleSpec, Worker, activity, workflow
from durable_workflow.errors import ScheduleAlreadyExists, ScheduleNotFound

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
QUEUE = "interop-schedules"
SCHEDULE_ID = f"interop-nightly-{os.getpid()}"


@activity.defn(name="interop_render")
async def render(options: dict) -> str:
    return f"report.{options['format']}"


@workflow.defn(name="interop-scheduled-report")
class ScheduledReport:
    def run(self, ctx, options):
        return (yield ctx.schedule_activity("interop_render", [options]))


def fail(message: str) -> None:
    print(f"interop schedules: {message}", file=sys.stderr)
    raise SystemExit(1)


def check(condition: bool, message: str, value: Any) -> None:
    if not condition:
        fail(f"{message}: got {value!r}")


async def main() -> None:
    async with Client(SERVER_URL, token="dev-token", namespace="default") as client:
        spec = ScheduleSpec(cron_expressions=["0 2 * * *"], timezone="Europe/Paris")
        action = ScheduleAction(
            workflow_type="interop-scheduled-report", task_queue=QUEUE, input=[{"format": "pdf"}]
        )
        handle = await client.create_schedule(
            schedule_id=SCHEDULE_ID, spec=spec, action=action, overlap_policy="skip", note="interop"
        )
        check(handle.schedule_id == SCHEDULE_ID, "create returned the wrong handle", handle.schedule_id)
        try:
            await client.create_schedule(schedule_id=SCHEDULE_ID, spec=spec, action=action)
        except ScheduleAlreadyExists:
            pass
        else:
            fail("a second create with the same id did not raise ScheduleAlreadyExists")

        described = await client.describe_schedule(SCHEDULE_ID)
        check(described.status == "active", "describe status", described.status)
        check(bool(described.next_fire_at), "describe next_fire_at", described.next_fire_at)
        stored_type = (described.action or {}).get("workflow_type")
        check(stored_type == action.workflow_type, "describe action", described.action)
        check(described.note == "interop", "describe note", described.note)
        listed = await client.list_schedules()
        check(SCHEDULE_ID in [s.schedule_id for s in listed.schedules], "list", listed)

        await client.pause_schedule(SCHEDULE_ID, note="maintenance")
        paused = await client.describe_schedule(SCHEDULE_ID)
        state = (paused.status, paused.next_fire_at)
        check(state == ("paused", None), "paused", state)
        await client.resume_schedule(SCHEDULE_ID, note="back")
        check((await client.describe_schedule(SCHEDULE_ID)).status == "active", "resumed", "not active")

        worker = Worker(
            client, task_queue=QUEUE, workflows=[ScheduledReport], activities=[render], poll_timeout=5.0
        )
        running = asyncio.create_task(worker.run())
        try:
            triggered = await client.trigger_schedule(SCHEDULE_ID)
            check(triggered.outcome == "triggered" and bool(triggered.workflow_id), "trigger", triggered)
            result = await client.get_workflow_handle(str(triggered.workflow_id)).result(timeout=30.0)
            check(result == "report.pdf", "the triggered workflow's result", result)
        finally:
            await worker.stop()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

        page = await client.get_schedule_history(SCHEDULE_ID, limit=2)
        check([e.sequence for e in page.events] == [1, 2] and page.has_more, "history first page", page)
        kinds = [event.event_type async for event in client.iter_schedule_history(SCHEDULE_ID)]
        expected = ["ScheduleCreated", "SchedulePaused", "ScheduleResumed", "ScheduleTriggered"]
        check(kinds == expected, "history", kinds)
        events = [e async for e in client.iter_schedule_history(SCHEDULE_ID)]
        fired = [e.workflow_instance_id for e in events if e.event_type == "ScheduleTriggered"]
        check(fired == [triggered.workflow_id], "history names the fired workflow", fired)

        await client.delete_schedule(SCHEDULE_ID)
        try:
            await client.describe_schedule(SCHEDULE_ID)
        except ScheduleNotFound:
            pass
        else:
            fail("describe after delete did not raise ScheduleNotFound")
        kept = [event.event_type async for event in client.iter_schedule_history(SCHEDULE_ID)]
        check(kept == [*expected, "ScheduleDeleted"], "history after delete", kept)
        print({"created": True, "triggered": result, "history": len(kept), "deleted": True})


asyncio.run(main())
