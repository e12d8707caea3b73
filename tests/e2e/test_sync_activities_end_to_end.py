"""Plain ``def`` activities through the real server: run in a thread, heartbeats recorded."""

from __future__ import annotations

from typing import Any

from durable_workflow import Client, Worker, activity, workflow


@activity.defn(name="sync-count")
def sync_count(n: int) -> int:
    ctx = activity.context()
    for i in range(n):
        ctx.heartbeat({"done": i + 1})
    return n


@workflow.defn(name="sync-counting")
class SyncCounting:
    def run(self, ctx: Any, n: int) -> Any:
        return (yield ctx.schedule_activity("sync-count", [n]))


async def test_sync_activity_heartbeats_reach_the_history(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="sync-counting", task_queue="sync", workflow_id="sync-hb-1", input=[3]
    )
    worker = Worker(client, task_queue="sync", workflows=[SyncCounting], activities=[sync_count])
    execution = await worker.run_until(workflow_id="sync-hb-1", timeout=30.0)
    assert execution.status == "completed"
    assert await handle.result(timeout=10.0) == 3
    history = await client.get_history("sync-hb-1", handle.run_id)
    beats = [e for e in history["events"] if e["event_type"] == "ActivityHeartbeatRecorded"]
    assert len(beats) == 3
