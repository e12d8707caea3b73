"""activity.context() against the real server: attempt info, heartbeats recorded in history."""

from __future__ import annotations

from typing import Any

from durable_workflow import ActivityRetryPolicy, Client, Worker, activity, workflow

seen: list[dict[str, Any]] = []


@activity.defn(name="report")
async def report(items: list[str]) -> dict[str, Any]:
    ctx = activity.context()
    seen.append({"attempt": ctx.info.attempt_number, "queue": ctx.info.task_queue})
    if ctx.info.attempt_number == 1:
        raise RuntimeError("first attempt fails")
    for done, _ in enumerate(items, start=1):
        await ctx.heartbeat({"progress": done, "total": len(items)})
    return {"processed": len(items), "cancelled": ctx.is_cancelled}


@workflow.defn(name="reporting")
class Reporting:
    def run(self, ctx: Any, items: list[str]) -> Any:
        policy = ActivityRetryPolicy(max_attempts=2, initial_interval_seconds=0)
        return (yield ctx.schedule_activity("report", [items], retry_policy=policy, heartbeat_timeout=30))


async def test_attempt_info_and_heartbeats(client: Client) -> None:
    seen.clear()
    handle = await client.start_workflow(
        workflow_type="reporting", task_queue="ctx-q", workflow_id="ctx-1", input=[["a", "b", "c"]]
    )
    worker = Worker(client, task_queue="ctx-q", workflows=[Reporting], activities=[report])
    await worker.run_until(workflow_id="ctx-1", timeout=30.0)
    assert await handle.result(timeout=10.0) == {"processed": 3, "cancelled": False}
    assert seen == [{"attempt": 1, "queue": "ctx-q"}, {"attempt": 2, "queue": "ctx-q"}]

    history = await client.get_history("ctx-1", handle.run_id)
    types = [event["event_type"] for event in history["events"]]
    assert types.count("ActivityStarted") == 2
    assert types.count("ActivityRetryScheduled") == 1
    assert types.count("ActivityHeartbeatRecorded") == 3
    assert types.count("ActivityScheduled") == 1
