"""The golden conversation's run commands: repair, cancel, terminate, archive, and a describe
of a run with open work."""

from __future__ import annotations

from durable_workflow.protocol import codec

from .recorder import Recorder, control, worker


async def run_commands(rec: Recorder) -> None:
    base = "/api/workflows/cmd-1"
    start = {"workflow_id": "cmd-1", "workflow_type": "greeter", "task_queue": "cmd-q"}
    started = await rec.send(
        "run commands: start", "POST", "/api/workflows", headers=control(), json_body=start
    )
    run_id = started.json()["run_id"]
    await rec.send("repair not needed", "POST", f"{base}/repair", headers=control(), json_body={})
    registration = {"worker_id": "cmd-worker", "task_queue": "cmd-q", "runtime": "python"}
    await rec.send(
        "run commands: register", "POST", "/api/worker/register", headers=worker(), json_body=registration
    )
    polled = await rec.send(
        "run commands: poll",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "cmd-worker", "task_queue": "cmd-q"},
    )
    task = polled.json()["task"]
    commands = [
        {"type": "schedule_activity", "activity_type": "greet", "arguments": codec.envelope(["x"])},
        {"type": "start_timer", "delay_seconds": 600},
    ]
    await rec.send(
        "run commands: schedule an activity and a timer",
        "POST",
        f"/api/worker/workflow-tasks/{task['task_id']}/complete",
        headers=worker(),
        json_body={
            "lease_owner": task["lease_owner"],
            "workflow_task_attempt": task["workflow_task_attempt"],
            "commands": commands,
        },
    )
    await rec.send("describe waiting on an activity and a timer", "GET", base, headers=control())
    await rec.send("archive an open run", "POST", f"{base}/archive", headers=control(), json_body={})
    await rec.send(
        "cancel with a reason",
        "POST",
        f"{base}/runs/{run_id}/cancel",
        headers=control(),
        json_body={"reason": "operator asked", "request_id": "req-1"},
    )
    await rec.send("history after the cancel", "GET", f"{base}/runs/{run_id}/history", headers=control())
    await rec.send("terminate a cancelled run", "POST", f"{base}/terminate", headers=control(), json_body={})
    await rec.send("archive", "POST", f"{base}/archive", headers=control(), json_body={"reason": "retention"})
    await rec.send("archive again", "POST", f"{base}/archive", headers=control(), json_body={})
    await rec.send("describe archived", "GET", base, headers=control())
