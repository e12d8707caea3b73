"""The quickstart path through the engine API: start → workflow task → activity → result."""

from __future__ import annotations

import asyncio

import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.errors import DomainError
from tests.server.engine.engine_driver import NS, POLL_LONGER, WAKE_WITHIN, Driver, activity, complete, parked


async def test_one_activity_flow_end_to_end(driver: Driver) -> None:
    started = await driver.start(args=["Ada"])
    assert started["outcome"] == "started_new" and started["status"] == "pending"
    wf_id, run_id = started["workflow_id"], started["run_id"]

    task = await driver.poll_wf()
    assert task is not None
    assert task["workflow_id"] == wf_id and task["run_id"] == run_id
    assert task["workflow_task_attempt"] == 1 and task["lease_owner"] == "w1"
    assert task["workflow_type"] == "greeter" and task["payload_codec"] == "avro"
    assert codec.decode_envelope(task["arguments"]) == ["Ada"]
    assert [e["event_type"] for e in task["history_events"]] == ["StartAccepted", "WorkflowStarted"]
    first = task["history_events"][0]
    assert set(first) == {
        "id",
        "sequence",
        "event_type",
        "namespace",
        "payload",
        "workflow_task_id",
        "workflow_command_id",
        "recorded_at",
    }
    started_payload = task["history_events"][1]["payload"]
    assert started_payload["timestamp"].endswith("Z")
    assert started_payload["arguments"] == task["arguments"]
    assert task["total_history_events"] == 2 and task["next_history_page_token"] is None
    assert task["workflow_wait_kind"] is None and "timer_id" in task

    done = await driver.complete_wf(task, [activity("greet", ["Ada"])])
    assert done["run_status"] == "waiting" and len(done["created_task_ids"]) == 1
    described = await driver.engine.describe_workflow(NS, wf_id)
    assert described["status"] == "waiting" and described["wait_kind"] == "activity"

    act = await driver.poll_act()
    assert act is not None
    assert act["activity_type"] == "greet" and act["attempt_number"] == 1
    assert codec.decode_envelope(act["arguments"]) == ["Ada"]
    assert act["task_id"] == done["created_task_ids"][0]
    assert "retry_policy" not in act  # no policy, no timeouts → one attempt, no snapshot
    result = await driver.complete_act(act, "Hello, Ada!")
    assert result["outcome"] == "completed" and result["recorded"] is True

    task2 = await driver.poll_wf()
    assert task2 is not None and task2["task_id"] != task["task_id"]
    types = [e["event_type"] for e in task2["history_events"]]
    assert types == [
        "StartAccepted",
        "WorkflowStarted",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityCompleted",
    ]
    scheduled, completed = task2["history_events"][2]["payload"], task2["history_events"][4]["payload"]
    assert scheduled["sequence"] == 3 and completed["sequence"] == 3
    assert completed["activity_execution_id"] == act["activity_execution_id"]
    assert codec.decode(completed["result"], completed["payload_codec"]) == "Hello, Ada!"

    final = await driver.complete_wf(task2, [complete({"greeting": "Hello, Ada!"})])
    assert final["run_status"] == "completed"
    described = await driver.engine.describe_workflow(NS, wf_id)
    assert described["status"] == "completed" and described["is_terminal"] is True
    assert described["status_bucket"] == "completed" and described["closed_reason"] == "completed"
    assert described["output"] == {"greeting": "Hello, Ada!"}
    assert codec.decode_envelope(described["output_envelope"]) == {"greeting": "Hello, Ada!"}
    assert described["input"] == ["Ada"]
    history = await driver.history(wf_id, run_id)
    assert history[-1]["event_type"] == "WorkflowCompleted"
    assert [e["sequence"] for e in history] == list(range(1, len(history) + 1))


async def test_waiting_poll_wakes_promptly_when_work_arrives(driver: Driver) -> None:
    poll = asyncio.create_task(driver.poll_wf(timeout=POLL_LONGER))
    await parked(driver.engine, ("workflow", NS, "q1"))
    assert not poll.done()
    await driver.start()
    # The poll re-probes only hourly and times out after a minute: only the wake-up answers it here.
    task = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert task is not None


async def test_waiting_activity_poll_wakes_on_schedule(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    poll = asyncio.create_task(driver.poll_act(timeout=POLL_LONGER))
    await parked(driver.engine, ("activity", NS, "q1"))
    await driver.complete_wf(task, [activity()])
    act = await asyncio.wait_for(poll, WAKE_WITHIN)
    assert act is not None and act["activity_type"] == "greet"


async def test_poll_times_out_with_none(driver: Driver) -> None:
    assert await driver.poll_wf(timeout=0.05) is None
    assert await driver.poll_act(timeout=0.0) is None


async def test_poll_requires_registration_and_matching_queue(driver: Driver) -> None:
    with pytest.raises(DomainError) as err:
        await driver.poll_wf(worker_id="nobody")
    assert err.value.reason == "worker_not_registered"
    with pytest.raises(DomainError) as err:
        await driver.poll_wf(task_queue="other")
    assert err.value.reason == "task_queue_mismatch"
    assert err.value.extra["registered_task_queue"] == "q1"
    with pytest.raises(DomainError) as err:
        await driver.engine.poll_activity_task(
            NS, worker_id="nobody", task_queue="q1", build_id=None, timeout=0
        )
    assert err.value.reason == "worker_not_registered"


async def test_close_releases_waiting_polls(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine(long_poll_timeout=30.0)
    d = Driver(engine)
    await d.register()
    poll = asyncio.create_task(d.poll_wf(timeout=30.0))
    await parked(engine, ("workflow", NS, "q1"))
    await engine.close()
    assert await asyncio.wait_for(poll, 5.0) is None


async def test_poll_request_id_replays_the_same_lease(driver: Driver) -> None:
    await driver.start()
    first = await driver.poll_wf(poll_request_id="wf-poll-1")
    again = await driver.poll_wf(poll_request_id="wf-poll-1")
    assert first is not None and again is not None
    assert again["task_id"] == first["task_id"]
    assert again["workflow_task_attempt"] == first["workflow_task_attempt"] == 1


async def test_history_pages_for_a_leased_task(driver: Driver) -> None:
    await driver.start()
    task = await driver.poll_wf(history_page_size=1)
    assert task is not None
    assert len(task["history_events"]) == 1 and task["next_history_page_token"] is not None
    page = await driver.engine.workflow_task_history(
        NS,
        task["task_id"],
        lease_owner="w1",
        workflow_task_attempt=1,
        next_history_page_token=task["next_history_page_token"],
        history_page_size=1,
    )
    assert [e["sequence"] for e in page["history_events"]] == [2]
    assert page["next_history_page_token"] is None and page["total_history_events"] == 2
    with pytest.raises(DomainError) as err:
        await driver.engine.workflow_task_history(
            NS,
            task["task_id"],
            lease_owner="w1",
            workflow_task_attempt=1,
            next_history_page_token="not-a-token",
            history_page_size=None,
        )
    assert err.value.reason == "invalid_page_token"


async def test_a_poll_cancelled_mid_claim_hands_the_task_back(driver: Driver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The claim every hand-out of a workflow task goes through (the poll's included).
    from durable_workflow_server.engine.workflow_tasks import claims as worker_plane

    await driver.start()
    real_claim = worker_plane.claim_workflow_task
    claimed = asyncio.Event()
    proceed = asyncio.Event()

    async def slow_claim(tx, **kwargs):  # type: ignore[no-untyped-def]
        result = await real_claim(tx, **kwargs)
        claimed.set()
        await proceed.wait()  # the poller gives up while the claim is in flight
        return result

    monkeypatch.setattr(worker_plane, "claim_workflow_task", slow_claim)
    poll = asyncio.create_task(driver.poll_wf(timeout=5.0))
    await asyncio.wait_for(claimed.wait(), 5.0)
    poll.cancel()
    await asyncio.sleep(0)
    proceed.set()
    with pytest.raises(asyncio.CancelledError):
        await poll
    monkeypatch.setattr(worker_plane, "claim_workflow_task", real_claim)
    again = await driver.poll_wf()
    assert again is not None and again["workflow_task_attempt"] == 2
