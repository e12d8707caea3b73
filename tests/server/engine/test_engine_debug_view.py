"""The debug view of a run (engine/runs/diagnostics.py): each diagnostic_status and its facts."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow_server.engine.errors import DomainError
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, complete, timer


async def _debug(driver: Driver, workflow_id: str = "wf-1", **kwargs: Any) -> dict[str, Any]:
    return dict(await driver.engine.debug_workflow(NS, workflow_id, **kwargs))


def _codes(body: dict[str, Any]) -> list[str]:
    return [finding["code"] for finding in body["findings"]]


async def test_a_new_run_has_pending_work_first_in_line(driver: Driver) -> None:
    started = await driver.start()
    body = await _debug(driver)
    assert body["diagnostic_status"] == "pending_work"
    assert body["workflow_id"] == "wf-1" and body["run_id"] == started["run_id"] and body["namespace"] == NS
    assert body["generated_at"].startswith("2026-03-01T12:00:00")
    (task,) = body["pending_workflow_tasks"]
    assert task["status"] == "ready" and task["is_due"] is True and task["task_queue"] == "q1"
    assert task["lease_owner"] is None and task["is_lease_expired"] is False
    assert body["pending_activities"] == [] and body["recent_failures"] == [] and body["findings"] == []
    execution = body["execution"]
    assert execution["status"] == "pending" and execution["is_terminal"] is False
    assert execution["workflow_type"] == "greeter" and execution["run_number"] == 1
    assert execution["liveness_state"] == "healthy" and execution["repair_attention"] is False
    assert execution["compatibility"] is None and execution["task_problem_badge"] is None
    assert execution["last_event"] is not None and "payload" not in execution["last_event"]
    assert execution["next_scheduled_event"] is None
    queue = body["task_queue"]
    assert queue["name"] == "q1" and queue["stats"]["approximate_backlog_count"] == 1
    assert queue["stats"]["pollers"]["active_count"] == 1
    assert body["compatibility"] == {
        "required": None,
        "pinned": False,
        "pinned_build_id": None,
        "eligible_poller_count": 1,
    }


async def test_the_last_event_payload_only_when_asked(driver: Driver) -> None:
    await driver.start()
    last = (await _debug(driver, include_last_event_payload=True))["execution"]["last_event"]
    assert last["sequence"] >= 1 and isinstance(last["payload"], dict)


async def test_a_leased_task_is_running(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    body = await _debug(driver)
    assert body["diagnostic_status"] == "running"
    (pending,) = body["pending_workflow_tasks"]
    assert pending["status"] == "leased" and pending["lease_owner"] == task["lease_owner"]
    assert pending["attempt"] == 1 and pending["lease_expires_at"] is not None


async def test_a_run_on_a_timer_is_waiting(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [timer(60)])
    body = await _debug(driver)
    assert body["diagnostic_status"] == "waiting"
    assert body["pending_workflow_tasks"] == [] and body["findings"] == []
    execution = body["execution"]
    assert execution["wait_kind"] == "timer" and "timer" in execution["wait_reason"]
    following = execution["next_scheduled_event"]
    assert following["kind"] == "timer" and following["timer_kind"] is None
    assert following["fire_at"].startswith("2026-03-01T12:01:00")


async def test_a_closed_run_is_terminal(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    body = await _debug(driver)
    assert body["diagnostic_status"] == "terminal"
    execution = body["execution"]
    assert execution["status"] == "completed" and execution["is_terminal"] is True
    assert execution["closed_at"] is not None and execution["wait_kind"] is None
    assert (
        execution["liveness_state"] is None and execution["last_event"]["event_type"] == "WorkflowCompleted"
    )
    assert body["pending_workflow_tasks"] == [] and body["findings"] == []


async def test_an_expired_workflow_task_lease_needs_attention(driver: Driver, clock: FakeClock) -> None:
    await driver.start()
    assert await driver.poll_wf() is not None
    clock.advance(301)
    body = await _debug(driver)
    assert body["diagnostic_status"] == "needs_attention"
    assert "workflow_task_lease_expired" in _codes(body)
    execution = body["execution"]
    assert (
        execution["repair_attention"] is True and execution["task_problem"] == "workflow_task_lease_expired"
    )
    assert body["pending_workflow_tasks"][0]["is_lease_expired"] is True


async def test_a_failed_workflow_task_needs_attention(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.engine.fail_workflow_task(
        NS,
        task["task_id"],
        lease_owner=task["lease_owner"],
        workflow_task_attempt=task["workflow_task_attempt"],
        failure={"message": "replay exploded"},
    )
    body = await _debug(driver)
    assert body["diagnostic_status"] == "needs_attention"
    assert _codes(body) == ["workflow_task_failing"]
    (failure,) = body["recent_failures"]
    assert failure["source"] == "workflow_task" and failure["message"] == "replay exploded"
    assert failure["retrying"] is True and failure["task_id"] == task["task_id"]


async def test_a_retried_activity_needs_attention(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    policy = {"max_attempts": 5, "backoff_seconds": [30]}
    await driver.complete_wf(task, [activity("charge", retry_policy=policy)])
    act = await driver.poll_act()
    assert act is not None
    assert (await _debug(driver))["diagnostic_status"] == "running"
    await driver.fail_act(act, "card declined", exception_class="CardError")
    body = await _debug(driver)
    assert body["diagnostic_status"] == "needs_attention"
    assert _codes(body) == ["activity_retrying"]
    (pending,) = body["pending_activities"]
    assert pending["activity_type"] == "charge" and pending["status"] == "pending"
    assert pending["task_status"] == "ready" and pending["is_due"] is False and pending["attempt"] == 1
    (failure,) = body["recent_failures"]
    assert failure["event_type"] == "ActivityRetryScheduled" and failure["retrying"] is True
    assert failure["message"] == "card declined" and failure["exception_class"] == "CardError"
    assert failure["attempt"] == 1 and failure["activity_type"] == "charge"


async def test_claimable_work_without_a_worker_needs_attention(driver: Driver) -> None:
    await driver.start(task_queue="nobody-polls")
    body = await _debug(driver)
    assert body["diagnostic_status"] == "needs_attention"
    assert _codes(body) == ["no_eligible_pollers"]
    assert body["compatibility"]["eligible_poller_count"] == 0


async def test_work_behind_older_work_of_another_run_is_queue_backlog(
    driver: Driver, clock: FakeClock
) -> None:
    await driver.start("wf-a")
    clock.advance(1)
    await driver.start("wf-b")
    behind = await _debug(driver, "wf-b")
    assert behind["diagnostic_status"] == "queue_backlog" and _codes(behind) == ["queue_backlog"]
    assert behind["task_queue"]["stats"]["approximate_backlog_count"] == 2
    assert (await _debug(driver, "wf-a"))["diagnostic_status"] == "pending_work"


async def test_a_paused_run_is_waiting(driver: Driver) -> None:
    await driver.start()
    await driver.engine.pause_workflow(NS, "wf-1", reason="maintenance")
    body = await _debug(driver)
    assert body["diagnostic_status"] == "waiting" and _codes(body) == ["paused"]
    assert body["execution"]["paused"] is True
    assert body["pending_workflow_tasks"][0]["status"] == "paused"


async def test_a_specific_run_and_the_not_found_answers(driver: Driver) -> None:
    started = await driver.start()
    body = await driver.engine.debug_run(NS, "wf-1", started["run_id"])
    assert body["run_id"] == started["run_id"] and body["diagnostic_status"] == "pending_work"
    with pytest.raises(DomainError) as unknown:
        await driver.engine.debug_workflow(NS, "nope")
    assert unknown.value.reason == "instance_not_found"
    with pytest.raises(DomainError) as no_run:
        await driver.engine.debug_run(NS, "wf-1", "no-such-run")
    assert no_run.value.reason == "run_not_found"
