"""Every ``EngineAPI`` answer has exactly the keys its declared ``TypedDict`` names.

mypy checks the keys the engine's builders write against the declared types; this pins the other
direction at run time: no answer carries a key its type does not declare, and every key the type
declares is sent, except the few listed in ``UNSENT`` (keys the protocol names that this server
never sends). A new key in a builder, or a key the types drop, fails here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow.protocol.wire import ActivityTask, HistoryEvent, HistoryPage
from durable_workflow_server.engine import shapes
from tests.server.engine.engine_driver import NS, Driver, activity

# Keys a protocol type names that this server does not send: the compressed-history pair (the
# server never compresses), the activity attempt id under its older name, and the start answer's
# task queue (only describe carries it). The sticky pair (``history_after_sequence``,
# ``full_history_next_page_token``) is sent only to a run's sticky worker (test_engine_sticky.py).
# HistoryEvent names ``type`` too: the key older servers used for ``event_type``, which the SDK
# still reads as a fallback. This server sends ``event_type`` only; worker pages carry no timestamp.
WORKER_EVENT_UNSENT = frozenset({"timestamp", "type"})
UNSENT: dict[str, frozenset[str]] = {
    "WorkflowTaskBody": frozenset(
        {
            "history_events_encoding",
            "history_events_compressed",
            "history_after_sequence",
            "full_history_next_page_token",
        }
    ),
    "ActivityTask": frozenset({"attempt_id"}),
    "StartWorkflowBody": frozenset({"task_queue"}),
}


def _declared(shape: Any) -> frozenset[str]:
    return frozenset(shape.__required_keys__ | shape.__optional_keys__)


def assert_sent_exactly(body: Mapping[str, Any], shape: Any) -> None:
    """``body`` has every key ``shape`` declares (but the known unsent ones) and no other."""
    expected = _declared(shape) - UNSENT.get(shape.__name__, frozenset())
    assert set(body) == expected, (
        f"{shape.__name__}: undeclared {sorted(set(body) - expected)}, unsent {sorted(expected - set(body))}"
    )


def assert_within(body: Mapping[str, Any], shape: Any) -> None:
    """``body`` has the keys ``shape`` requires and none it does not declare (shared shapes)."""
    keys = set(body)
    assert keys <= _declared(shape), f"{shape.__name__}: undeclared {sorted(keys - _declared(shape))}"
    assert shape.__required_keys__ <= keys, f"{shape.__name__}: missing {shape.__required_keys__ - keys}"


async def test_control_plane_answers_match_their_types(driver: Driver) -> None:
    engine = driver.engine
    started = await driver.start(workflow_id="wf-shapes")
    assert_sent_exactly(started, shapes.StartWorkflowBody)
    again = await driver.start(workflow_id="wf-shapes", duplicate_policy="use-existing")
    assert again["outcome"] == "returned_existing_active"
    assert_sent_exactly(again, shapes.StartWorkflowBody)
    wf_id, run_id = started["workflow_id"], started["run_id"]

    described = await engine.describe_workflow(NS, wf_id)
    assert_sent_exactly(described, shapes.DescribeWorkflowBody)
    assert_sent_exactly(described["actions"], shapes.WorkflowActions)
    assert_sent_exactly(await engine.describe_run(NS, wf_id, run_id), shapes.DescribeWorkflowBody)

    listed = await engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=10, next_page_token=None
    )
    assert_sent_exactly(listed, shapes.ListWorkflowsResponse)
    assert listed["workflows"]
    for item in listed["workflows"]:
        assert_within(item, shapes.WorkflowListItem)
        assert "render_error" not in item  # only on a row whose stored values cannot be rendered
    assert_sent_exactly(await engine.count_workflows(NS), shapes.WorkflowCountsBody)
    assert_sent_exactly(await engine.count_workflows(NS, limit=1), shapes.WorkflowCountsBody)

    runs = await engine.list_runs(NS, wf_id)
    assert_sent_exactly(runs, shapes.ListRunsResponse)
    assert runs["runs"]
    for run in runs["runs"]:
        assert_sent_exactly(run, shapes.RunListItem)

    page = await engine.history_page(
        NS, wf_id, run_id, page_size=10, next_page_token=None, wait_new_event=False
    )
    assert_sent_exactly(page, shapes.ControlHistoryPage)
    assert page["events"]
    for event in page["events"]:
        assert set(event) == {"id", "sequence", "event_type", "timestamp", "payload"}
        assert_within(event, HistoryEvent)

    bundle = await engine.export_history(NS, wf_id, run_id)
    assert_sent_exactly(bundle, shapes.HistoryExportBundle)
    assert_sent_exactly(bundle["workflow"], shapes.ExportedWorkflow)
    assert_sent_exactly(bundle["payloads"], shapes.ExportedPayloads)
    assert_sent_exactly(bundle["summary"], shapes.ExportSummary)
    assert_sent_exactly(bundle["integrity"], shapes.ExportIntegrity)
    for exported in bundle["history_events"]:
        assert_sent_exactly(exported, shapes.ExportedHistoryEvent)
    for task in bundle["tasks"]:
        assert_sent_exactly(task, shapes.ExportedTask)


async def test_worker_plane_answers_match_their_types(driver: Driver) -> None:
    engine = driver.engine
    assert_sent_exactly(await driver.register(worker_id="w-shapes"), shapes.RegisterWorkerResponse)
    beat = await engine.heartbeat_worker(NS, "w1", task_slots=None, process_metrics=None)
    assert_sent_exactly(beat, shapes.WorkerHeartbeatResponse)
    started = await driver.start(workflow_id="wf-worker-shapes")

    task = await driver.poll_wf(history_page_size=1)
    assert task is not None
    assert_sent_exactly(task, shapes.WorkflowTaskBody)
    for event in task["history_events"]:
        assert set(event) == _declared(HistoryEvent) - WORKER_EVENT_UNSENT
    fence = {"lease_owner": task["lease_owner"], "workflow_task_attempt": task["workflow_task_attempt"]}
    more = await engine.workflow_task_history(
        NS,
        task["task_id"],
        next_history_page_token=task["next_history_page_token"],
        history_page_size=1,
        **fence,
    )
    assert set(more) == _declared(HistoryPage) - {"history_events_encoding", "history_events_compressed"}
    renewed = await engine.heartbeat_workflow_task(NS, task["task_id"], **fence)
    assert_sent_exactly(renewed, shapes.WorkflowTaskHeartbeatResponse)
    failed = await engine.fail_workflow_task(
        NS, task["task_id"], failure={"message": "replay broke"}, **fence
    )
    assert_sent_exactly(failed, shapes.WorkflowTaskFailedResponse)

    # The redelivery (after the short retry delay) completes with an activity that has a policy
    # and a timeout, so its task carries the retry snapshot and the deadlines.
    redelivered = await driver.poll_wf(timeout=5.0)
    assert redelivered is not None and redelivered["run_id"] == started["run_id"]
    command = activity("greet", retry_policy={"max_attempts": 2}, start_to_close_timeout=60)
    done = await driver.complete_wf(redelivered, [command])
    assert_sent_exactly(done, shapes.WorkflowTaskCompletedResponse)

    act = await driver.poll_act()
    assert act is not None
    assert_sent_exactly(act, ActivityTask)
    assert_sent_exactly(act["retry_policy"], shapes.RetryPolicySnapshot)
    assert set(act["deadlines"]) == {"start_to_close"}
    attempt = {"activity_attempt_id": act["activity_attempt_id"], "lease_owner": act["lease_owner"]}
    progress = await engine.heartbeat_activity_task(
        NS, act["task_id"], progress={"message": "half"}, **attempt
    )
    assert_sent_exactly(progress, shapes.ActivityHeartbeatResponse)
    retried = await driver.fail_act(act, "first try")
    assert retried["next_task_id"] is not None
    assert_sent_exactly(retried, shapes.ActivityOutcomeResponse)

    second = await driver.poll_act(timeout=5.0)
    assert second is not None
    assert_sent_exactly(await driver.complete_act(second, "Hello"), shapes.ActivityOutcomeResponse)


async def test_system_answers_match_their_types(driver: Driver) -> None:
    checks = await driver.engine.readiness_checks()
    assert set(checks) == {"database", "migrations", "default_namespace"}
    for check in checks.values():
        assert_within(check, shapes.ReadinessCheck)
    fleet = await driver.engine.worker_fleet(NS)
    assert_sent_exactly(fleet, shapes.WorkerFleet)
    assert fleet["workers"]
    for worker in fleet["workers"]:
        assert_sent_exactly(worker, shapes.FleetWorker)
