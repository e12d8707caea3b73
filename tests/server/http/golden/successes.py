"""The golden conversation's successful calls: system routes, the control plane, a worker's whole day."""

from __future__ import annotations

from durable_workflow.protocol import codec

from .recorder import ADMIN_TOKEN, FENCE_KEYS, START, Recorder, control, worker


async def system(rec: Recorder) -> None:
    await rec.send("health", "GET", "/api/health")
    await rec.send("ready", "GET", "/api/ready")
    await rec.send("cluster info (operator)", "GET", "/api/cluster/info", headers=control())
    await rec.send(
        "cluster info (worker, plain)",
        "GET",
        "/api/cluster/info",
        headers={"Authorization": "Bearer golden-worker"},
    )
    await rec.send("cluster info without a token", "GET", "/api/cluster/info")
    await rec.send(
        "cluster info with a wrong token",
        "GET",
        "/api/cluster/info",
        headers={"Authorization": "Bearer nope"},
    )
    await rec.send(
        "cluster info ignores an unknown namespace",
        "GET",
        "/api/cluster/info",
        headers=control(**{"X-Namespace": "nope"}),
    )


# ---------------------------------------------------------------------- control plane


async def control_plane_successes(rec: Recorder) -> None:
    await rec.send("start", "POST", "/api/workflows", headers=control(), json_body=START)
    await rec.send("start duplicate refused", "POST", "/api/workflows", headers=control(), json_body=START)
    await rec.send(
        "start use-existing",
        "POST",
        "/api/workflows",
        headers=control(),
        json_body={**START, "duplicate_policy": "use-existing"},
    )
    await rec.send(
        "start with a generated id and an avro envelope",
        "POST",
        "/api/workflows",
        headers=control(token=ADMIN_TOKEN),
        json_body={"workflow_type": "greeter", "task_queue": "q2", "input": codec.envelope(["typed"])},
    )
    await rec.send(
        "start with timeouts",
        "POST",
        "/api/workflows",
        headers=control(),
        json_body={
            "workflow_id": "wf-timeouts",
            "workflow_type": "other",
            "task_queue": "elsewhere",
            "execution_timeout_seconds": 86400,
            "run_timeout_seconds": "3600",
        },
    )
    await rec.send("list", "GET", "/api/workflows", headers=control())
    first = await rec.send(
        "list page 1", "GET", "/api/workflows?page_size=1&status=running", headers=control()
    )
    token = first.json().get("next_page_token")
    await rec.send(
        "list page 2",
        "GET",
        f"/api/workflows?page_size=1&status=running&next_page_token={token}",
        headers=control(),
    )
    await rec.send("list by type", "GET", "/api/workflows?workflow_type=other", headers=control())
    await rec.send("list completed (none)", "GET", "/api/workflows?status=completed", headers=control())
    await rec.send("list namespace by query", "GET", "/api/workflows?namespace=default", headers=control())
    await rec.send("describe", "GET", "/api/workflows/wf-1", headers=control())
    await rec.send("runs", "GET", "/api/workflows/wf-1/runs", headers=control())


async def worker_plane(rec: Recorder) -> None:
    registration = {
        "worker_id": "w1",
        "task_queue": "q",
        "runtime": "python",
        "sdk_version": "0.1.0",
        "build_id": "b1",
        "supported_workflow_types": ["greeter"],
        "workflow_definition_fingerprints": {"greeter": "abc"},
        "supported_activity_types": ["act"],
        "max_concurrent_workflow_tasks": 4,
        "max_concurrent_activity_tasks": "8",
        "capabilities": ["x"],
        "task_slots": {"workflow": 4},
        "process_metrics": {"rss": 1},
    }
    await rec.send("register", "POST", "/api/worker/register", headers=worker(), json_body=registration)
    await rec.send(
        "register with a generated id",
        "POST",
        "/api/worker/register",
        headers=worker(),
        json_body={"task_queue": "q", "runtime": "python"},
    )
    await rec.send(
        "worker heartbeat",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(),
        json_body={"worker_id": "w1", "task_slots": {"workflow": 3}},
    )
    await rec.send(
        "worker heartbeat unknown worker",
        "POST",
        "/api/worker/heartbeat",
        headers=worker(),
        json_body={"worker_id": "ghost"},
    )
    await rec.send(
        "poll unregistered worker",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "ghost", "task_queue": "q", "timeout_seconds": 0},
    )
    polled = await rec.send(
        "poll workflow task",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "history_page_size": 1, "poll_request_id": "p1"},
    )
    task = polled.json()["task"]
    task_id = task["task_id"]
    fence = {key: task[key] for key in FENCE_KEYS}
    wt = f"/api/worker/workflow-tasks/{task_id}"
    await rec.send("workflow task heartbeat", "POST", f"{wt}/heartbeat", headers=worker(), json_body=fence)
    await rec.send(
        "workflow task history page",
        "POST",
        f"{wt}/history",
        headers=worker(),
        json_body={
            **fence,
            "next_history_page_token": task.get("next_history_page_token") or "MQ==",
            "history_page_size": 1,
        },
    )
    await rec.send(
        "workflow task history bad token",
        "POST",
        f"{wt}/history",
        headers=worker(),
        json_body={**fence, "next_history_page_token": "%%%"},
    )
    await rec.send(
        "workflow task heartbeat wrong owner",
        "POST",
        f"{wt}/heartbeat",
        headers=worker(),
        json_body={**fence, "lease_owner": "someone-else"},
    )
    await rec.send(
        "workflow task heartbeat unknown task",
        "POST",
        "/api/worker/workflow-tasks/no-such-task/heartbeat",
        headers=worker(),
        json_body=fence,
    )
    await rec.send(
        "complete refused by command validation",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={**fence, "commands": [{"type": "start_timer", "delay_seconds": -1}, {"type": "nope"}]},
    )
    await rec.send(
        "complete with two terminal commands",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={
            **fence,
            "commands": [{"type": "complete_workflow"}, {"type": "fail_workflow", "message": "x"}],
        },
    )
    await rec.send(
        "complete schedules an activity",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={
            **fence,
            "commands": [
                {
                    "type": "schedule_activity",
                    "activity_type": "act",
                    "queue": "q",
                    "arguments": codec.encode(["a"]),
                    "start_to_close_timeout": 60,
                    "retry_policy": {"max_attempts": 2, "backoff_seconds": [1]},
                }
            ],
        },
    )
    await rec.send(
        "complete again after the task closed",
        "POST",
        f"{wt}/complete",
        headers=worker(),
        json_body={**fence, "commands": [{"type": "complete_workflow"}]},
    )
    await rec.send(
        "empty workflow poll",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 0, "build_id": "b1"},
    )
    leased = await rec.send(
        "poll activity task",
        "POST",
        "/api/worker/activity-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    activity = leased.json()["task"]
    at = f"/api/worker/activity-tasks/{activity['task_id']}"
    afence = {"activity_attempt_id": activity["activity_attempt_id"], "lease_owner": activity["lease_owner"]}
    await rec.send(
        "activity heartbeat",
        "POST",
        f"{at}/heartbeat",
        headers=worker(),
        json_body={
            **afence,
            "message": "half",
            "current": 1,
            "total": 2.5,
            "unit": "steps",
            "details": {"k": "v"},
        },
    )
    await rec.send(
        "activity heartbeat wrong owner",
        "POST",
        f"{at}/heartbeat",
        headers=worker(),
        json_body={**afence, "lease_owner": "x"},
    )
    await rec.send(
        "activity complete wrong attempt",
        "POST",
        f"{at}/complete",
        headers=worker(),
        json_body={**afence, "activity_attempt_id": "nope", "result": codec.encode("r")},
    )
    await rec.send(
        "activity fail (retryable)",
        "POST",
        f"{at}/fail",
        headers=worker(),
        json_body={
            **afence,
            "failure": {"message": "boom", "type": "ValueError", "stack_trace": "t", "kind": "application"},
        },
    )
    await rec.send(
        "activity complete after its attempt failed",
        "POST",
        f"{at}/complete",
        headers=worker(),
        json_body={**afence, "result": codec.encode("r")},
    )
    await rec.send(
        "activity heartbeat unknown task",
        "POST",
        "/api/worker/activity-tasks/no-such-task/heartbeat",
        headers=worker(),
        json_body=afence,
    )
    # The retry is due after its one-second backoff; the clock moves a second per request.
    rec.clock.tick()
    retried = await rec.send(
        "poll the retry",
        "POST",
        "/api/worker/activity-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    retry = retried.json()["task"]
    if retry is not None:
        rt = f"/api/worker/activity-tasks/{retry['task_id']}"
        rfence = {"activity_attempt_id": retry["activity_attempt_id"], "lease_owner": retry["lease_owner"]}
        await rec.send(
            "activity complete",
            "POST",
            f"{rt}/complete",
            headers=worker(),
            json_body={**rfence, "result": codec.encode("r")},
        )
    second = await rec.send(
        "poll the next workflow task",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    task2 = second.json()["task"]
    if task2 is not None:
        wt2 = f"/api/worker/workflow-tasks/{task2['task_id']}"
        fence2 = {key: task2[key] for key in FENCE_KEYS}
        await rec.send(
            "workflow task fail",
            "POST",
            f"{wt2}/fail",
            headers=worker(),
            json_body={**fence2, "failure": {"message": "replay broke", "type": "RuntimeError"}},
        )
    third = await rec.send(
        "poll the redelivered workflow task",
        "POST",
        "/api/worker/workflow-tasks/poll",
        headers=worker(),
        json_body={"worker_id": "w1", "task_queue": "q", "timeout_seconds": 1},
    )
    task3 = third.json()["task"]
    if task3 is not None:
        wt3 = f"/api/worker/workflow-tasks/{task3['task_id']}"
        fence3 = {key: task3[key] for key in FENCE_KEYS}
        await rec.send(
            "complete the workflow",
            "POST",
            f"{wt3}/complete",
            headers=worker(),
            json_body={
                **fence3,
                "commands": [
                    {"type": "record_side_effect", "result": codec.encode(7)},
                    {"type": "upsert_search_attributes", "attributes": {"Stage": "done"}},
                    {"type": "complete_workflow", "result": codec.encode("hello world")},
                ],
            },
        )


async def reads_after_progress(rec: Recorder) -> None:
    described = await rec.send("describe completed", "GET", "/api/workflows/wf-1", headers=control())
    run_id = described.json().get("run_id")
    await rec.send("describe run", "GET", f"/api/workflows/wf-1/runs/{run_id}", headers=control())
    page = await rec.send(
        "history page 1", "GET", f"/api/workflows/wf-1/runs/{run_id}/history?page_size=2", headers=control()
    )
    token = page.json().get("next_page_token")
    await rec.send(
        "history page 2",
        "GET",
        f"/api/workflows/wf-1/runs/{run_id}/history?page_size=2&next_page_token={token}",
        headers=control(),
    )
    await rec.send(
        "history full",
        "GET",
        f"/api/workflows/wf-1/runs/{run_id}/history?wait_new_event=0",
        headers=control(),
    )
    await rec.send(
        "history bad token",
        "GET",
        f"/api/workflows/wf-1/runs/{run_id}/history?next_page_token=zz",
        headers=control(),
    )
    await rec.send(
        "history export", "GET", f"/api/workflows/wf-1/runs/{run_id}/history/export", headers=control()
    )
    await rec.send("list completed", "GET", "/api/workflows?status=completed", headers=control())
    await rec.send("describe unknown workflow", "GET", "/api/workflows/missing", headers=control())
    await rec.send("runs of unknown workflow", "GET", "/api/workflows/missing/runs", headers=control())
    await rec.send("describe unknown run", "GET", "/api/workflows/wf-1/runs/nope", headers=control())
    await rec.send(
        "history of unknown run", "GET", "/api/workflows/wf-1/runs/nope/history", headers=control()
    )
    await rec.send(
        "export of unknown run", "GET", "/api/workflows/wf-1/runs/nope/history/export", headers=control()
    )
    await rec.send("cluster info with workers", "GET", "/api/cluster/info", headers=control())


# ---------------------------------------------------------------------- errors
