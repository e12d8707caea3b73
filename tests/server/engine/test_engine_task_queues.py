"""Task-queue views against real rows: backlog, leases, admission, repair facts, queue discovery."""

from __future__ import annotations

from durable_workflow_server.engine.namespaces.api import CreateNamespaceRequest
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.task_queues.views import age_label
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity

SLOTS = {
    "supported_workflow_types": ["greeter"],
    "supported_activity_types": ["greet"],
    "max_concurrent_workflow_tasks": 3,
    "max_concurrent_activity_tasks": 2,
}


async def test_an_unknown_queue_is_described_as_empty(engine: Engine) -> None:
    body = await engine.describe_task_queue(NS, "nobody-here")
    assert body["name"] == "nobody-here" and body["pollers"] == [] and body["current_leases"] == []
    assert body["stats"]["approximate_backlog_count"] == 0
    assert body["stats"]["oldest_ready_task"] is None
    assert body["admission"]["workflow_tasks"]["status"] == "no_active_workers"
    assert body["admission"]["query_tasks"]["status"] == "unavailable"
    assert await engine.list_task_queues(NS) == {"namespace": NS, "task_queues": []}


async def test_describe_counts_backlog_leases_and_ages_them(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(workflow_task_lease_seconds=300.0, activity_task_lease_seconds=300.0)
    driver = Driver(engine)
    await driver.register(build_id="b1", **SLOTS)
    first = await driver.start("wf-1")
    await driver.start("wf-2")
    task = await driver.poll_wf()
    assert task is not None and task["workflow_id"] == "wf-1"
    clock.advance(90)

    body = await engine.describe_task_queue(NS, "q1")
    stats = body["stats"]
    assert stats["workflow_tasks"] == {"ready_count": 1, "leased_count": 1, "expired_lease_count": 0}
    assert stats["activity_tasks"] == {"ready_count": 0, "leased_count": 0, "expired_lease_count": 0}
    assert stats["approximate_backlog_count"] == 1
    assert stats["approximate_backlog_age_seconds"] == 90 and stats["approximate_backlog_age"] == "1m30s"
    oldest = stats["oldest_ready_task"]
    assert oldest is not None and (oldest["task_type"], oldest["workflow_id"]) == ("workflow", "wf-2")
    assert body["repair"]["dispatch_overdue"] == 1 and body["repair"]["needs_attention"] is True
    assert [(lease["task_id"], lease["lease_owner"], lease.get("workflow_task_attempt")) for lease in
            body["current_leases"]] == [(task["task_id"], "w1", 1)]  # fmt: skip
    assert body["current_leases"][0]["run_id"] == first["run_id"]
    [poller] = body["pollers"]
    assert (poller["worker_id"], poller["build_id"], poller["is_stale"]) == ("w1", "b1", True)
    # The worker has not heartbeated for 90 s (> 60 s): nobody accepts work.
    admission = body["admission"]["workflow_tasks"]
    assert (admission["active_worker_count"], admission["status"]) == (0, "no_active_workers")

    await driver.register(build_id="b1", **SLOTS)
    admission = (await engine.describe_task_queue(NS, "q1"))["admission"]["workflow_tasks"]
    assert admission["active_worker_count"] == 1 and admission["configured_slot_count"] == 3
    assert (admission["leased_count"], admission["ready_count"], admission["available_slot_count"]) == (
        1,
        1,
        2,
    )
    assert (
        admission["server_active_lease_count"] == 1 and admission["server_namespace_active_lease_count"] == 1
    )
    assert admission["server_max_active_leases_per_queue"] is None and admission["status"] == "accepting"

    # An activity: scheduled, then leased as attempt 1.
    await driver.complete_wf(task, [activity()])
    act = await driver.poll_act()
    assert act is not None
    leases = (await engine.describe_task_queue(NS, "q1"))["current_leases"]
    activity_lease = next(lease for lease in leases if lease["task_type"] == "activity")
    assert activity_lease == {
        "task_id": act["task_id"],
        "task_type": "activity",
        "workflow_id": "wf-1",
        "run_id": first["run_id"],
        "lease_owner": "w1",
        "lease_expires_at": act["lease_expires_at"],
        "is_expired": False,
        "activity_attempt_id": act["activity_attempt_id"],
        "attempt_number": 1,
    }
    # Past its lease, before the background loop takes it back: an expired lease in the backlog.
    clock.advance(301)
    stats = (await engine.describe_task_queue(NS, "q1"))["stats"]
    assert stats["activity_tasks"] == {"ready_count": 0, "leased_count": 0, "expired_lease_count": 1}
    assert stats["approximate_backlog_count"] == 1 + 1  # wf-2's task and the lost activity lease


async def test_admission_reports_saturation_and_no_slots(driver: Driver) -> None:
    engine = driver.engine
    await driver.register(supported_workflow_types=["greeter"], max_concurrent_workflow_tasks=1)
    for n in range(3):
        await driver.start(f"wf-{n}")
    assert (await engine.describe_task_queue(NS, "q1"))["admission"]["workflow_tasks"][
        "status"
    ] == "saturated"
    assert await driver.poll_wf() is not None
    assert (await engine.describe_task_queue(NS, "q1"))["admission"]["workflow_tasks"]["status"] == "no_slots"


async def test_list_finds_queues_of_tasks_and_of_workers_in_the_namespace_only(driver: Driver) -> None:
    engine = driver.engine
    await driver.start("wf-1", task_queue="from-tasks")
    await driver.register("w-only", queue="from-workers")
    await engine.create_namespace(CreateNamespaceRequest("other", None))
    await engine.register_worker("other", driver_request("w-elsewhere", "elsewhere"))
    body = await engine.list_task_queues(NS)
    assert [q["name"] for q in body["task_queues"]] == ["from-tasks", "from-workers", "q1"]
    [from_tasks] = [q for q in body["task_queues"] if q["name"] == "from-tasks"]
    assert from_tasks["stats"]["workflow_tasks"]["ready_count"] == 1
    assert set(from_tasks) == {"name", "namespace", "stats", "repair", "admission"}
    assert [q["name"] for q in (await engine.list_task_queues("other"))["task_queues"]] == ["elsewhere"]
    # Namespace B sees nothing of namespace A's queue.
    other = await engine.describe_task_queue("other", "from-tasks")
    assert other["stats"]["workflow_tasks"]["ready_count"] == 0 and other["pollers"] == []


def driver_request(worker_id: str, queue: str) -> object:
    from durable_workflow_server.engine.api import RegisterWorkerRequest

    return RegisterWorkerRequest(task_queue=queue, runtime="python", worker_id=worker_id)


def test_backlog_age_labels() -> None:
    assert [age_label(s) for s in (0, 45, 60, 192, 3600, 7500, 86400 + 3 * 3600)] == [
        "0s", "45s", "1m0s", "3m12s", "1h0m", "2h5m", "1d3h",
    ]  # fmt: skip
