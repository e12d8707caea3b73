"""Build-id cohorts: the rollout snapshot, drain and resume in the claim paths, promotion pins new runs."""

from __future__ import annotations

import asyncio

import pytest

from durable_workflow.protocol import capabilities
from durable_workflow.protocol import errors as reasons
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.namespaces.api import CreateNamespaceRequest
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, parked
from tests.server.engine.statements import recorded

TYPES = {"supported_workflow_types": ["greeter"], "supported_activity_types": ["greet"]}


async def test_the_rollout_snapshot_orders_cohorts_and_keeps_intent_only_ones(
    engine: Engine, clock: FakeClock
) -> None:
    d = Driver(engine)
    await d.register("old-1", build_id="b-old", sdk_version="sdk/1")
    await d.register("unversioned-1")
    clock.advance(120)  # both of those are stale now
    await d.register("new-1", build_id="b-new", sdk_version="sdk/2")
    await d.register("new-2", build_id="b-new", sdk_version="sdk/3")
    await d.register("mid-1", build_id="b-mid")
    await engine.drain_task_queue_build_id(NS, "q1", "b-mid")
    await engine.drain_task_queue_build_id(NS, "q1", "b-never-seen")

    body = await engine.list_task_queue_build_ids(NS, "q1")
    assert (body["namespace"], body["task_queue"], body["stale_after_seconds"]) == (NS, "q1", 60)
    summary = [(c["build_id"], c["rollout_status"], c["total_worker_count"]) for c in body["build_ids"]]
    assert summary == [
        ("b-new", "active", 2),
        ("b-mid", "draining", 1),
        ("b-old", "stale_only", 1),
        (None, "stale_only", 1),  # named builds before the unversioned cohort in a tier
        ("b-never-seen", "no_workers", 0),
    ]
    new = body["build_ids"][0]
    assert new["sdk_versions"] == ["sdk/2", "sdk/3"] and new["runtimes"] == ["python"]
    assert new["active_worker_count"] == 2 and new["drain_intent"] == "active"
    intent_only = body["build_ids"][-1]
    assert intent_only["drain_intent"] == "draining" and intent_only["drained_at"] is not None
    assert intent_only["last_heartbeat_at"] is None
    # Another queue, another namespace: nothing of these.
    assert (await engine.list_task_queue_build_ids(NS, "q2"))["build_ids"] == []
    assert (await engine.list_task_queue_build_ids("other", "q1"))["build_ids"] == []


async def test_drain_is_idempotent_and_resume_clears_it(engine: Engine, clock: FakeClock) -> None:
    first = await engine.drain_task_queue_build_id(NS, "q1", "b1")
    clock.advance(5)
    again = await engine.drain_task_queue_build_id(NS, "q1", "b1")
    assert again == first and first["drain_intent"] == "draining" and first["drained_at"] is not None
    resumed = await engine.resume_task_queue_build_id(NS, "q1", "b1")
    assert (resumed["drain_intent"], resumed["drained_at"]) == ("active", None)
    assert await engine.resume_task_queue_build_id(NS, "q1", "b1") == resumed
    # Blank and None are the same, unversioned, cohort.
    blank = await engine.drain_task_queue_build_id(NS, "q1", "  ")
    assert blank["build_id"] is None
    assert (await engine.drain_task_queue_build_id(NS, "q1", None))["drained_at"] == blank["drained_at"]


async def test_a_drained_cohort_claims_nothing_new_while_its_leases_finish(engine: Engine) -> None:
    old, new = Driver(engine, worker_id="old"), Driver(engine, worker_id="new")
    await old.register(build_id="b1", **TYPES)
    await old.start("wf-1")
    task = await old.poll_wf()
    assert task is not None
    await old.complete_wf(task, [activity()])
    act = await old.poll_act()
    assert act is not None
    await old.start("wf-2")

    drained = await engine.drain_task_queue_build_id(NS, "q1", "b1")
    assert drained["drain_intent"] == "draining"
    assert (await engine.describe_worker(NS, "old"))["status"] == "draining"
    # No new workflow task, no new activity, for any worker of the cohort.
    assert await old.poll_wf(timeout=0.05) is None
    # The in-flight attempt heartbeats and completes.
    await engine.heartbeat_activity_task(
        NS, act["task_id"], activity_attempt_id=act["activity_attempt_id"], lease_owner="old", progress={}
    )
    assert (await old.complete_act(act, "hi"))["outcome"] == "completed"
    assert await old.poll_wf(timeout=0.05) is None
    # A worker of the cohort registering now lands draining, and claims nothing either.
    await Driver(engine, worker_id="old-2").register(build_id="b1", **TYPES)
    assert (await engine.describe_worker(NS, "old-2"))["status"] == "draining"
    assert await Driver(engine, worker_id="old-2").poll_wf(timeout=0.05) is None
    # Another build takes the work.
    await new.register(build_id="b2", **TYPES)
    claimed = await new.poll_wf()
    assert claimed is not None

    queue = await engine.describe_task_queue(NS, "q1")
    assert queue["admission"]["workflow_tasks"]["active_worker_count"] == 1  # draining ones are not

    resumed = await engine.resume_task_queue_build_id(NS, "q1", "b1")
    assert resumed["drain_intent"] == "active"
    assert (await engine.describe_worker(NS, "old"))["status"] == "active"
    await new.complete_wf(claimed, [{"type": "complete_workflow"}])
    assert await old.poll_wf() is not None


async def test_the_drain_rule_costs_a_claim_no_statement_of_its_own(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(build_id="b1", **TYPES)
    await d.start("wf-1")
    await d.start("wf-2")
    with recorded(engine) as seen:
        task = await d.poll_wf()
        assert task is not None
        await d.complete_wf(task, [activity()])
        assert await d.poll_act() is not None
    cohort_reads = [statement for statement, _ in seen if "task_queue_build_ids" in statement]
    assert cohort_reads  # the rule is applied...
    tasks = ("workflow_tasks", "activity_tasks")
    assert all(any(table in s for table in tasks) for s in cohort_reads)  # ...inside the candidate queries

    # And it holds for activities as for workflow tasks: drained, the cohort takes neither.
    started = await d.poll_wf()
    assert started is not None and started["workflow_id"] == "wf-2"
    await d.complete_wf(started, [activity()])
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    assert await d.poll_act(timeout=0) is None
    await engine.resume_task_queue_build_id(NS, "q1", "b1")
    assert await d.poll_act(timeout=0) is not None


async def test_a_poll_waiting_when_the_drain_lands_gets_nothing_and_resume_wakes_it(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(build_id="b1", **TYPES)
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    poll = asyncio.create_task(d.poll_wf(timeout=30.0))
    await parked(engine, ("workflow", NS, "q1"))
    await d.start("wf-1")  # wakes the poll: it must still not claim
    await asyncio.sleep(0.05)
    assert not poll.done()
    await engine.resume_task_queue_build_id(NS, "q1", "b1")  # wakes it again, now it claims
    task = await asyncio.wait_for(poll, 10)
    assert task is not None and task["workflow_id"] == "wf-1"


async def test_query_tasks_follow_the_pin_and_the_drain(engine: Engine) -> None:
    answering = {"supported_workflow_types": ["greeter"], "capabilities": [capabilities.WORKER_QUERY_TASKS]}
    old, new = Driver(engine, worker_id="old"), Driver(engine, worker_id="new")
    await old.register(build_id="b1", **answering)
    await new.register(build_id="b2", **answering)
    await engine.promote_task_queue_build_id(NS, "q1", "b2")
    await old.start("pinned")

    asking = asyncio.ensure_future(engine.query_workflow(NS, "pinned", "status"))
    # The old build is not handed the pinned run's query; the promoted build is.
    assert await engine.poll_query_task(NS, worker_id="old", task_queue="q1", timeout=0.05) is None
    task = await engine.poll_query_task(NS, worker_id="new", task_queue="q1", timeout=5.0)
    assert task is not None and task["workflow_id"] == "pinned"
    await engine.complete_query_task(
        NS,
        task["query_task_id"],
        lease_owner="new",
        query_task_attempt=1,
        result={"ok": True},
        result_envelope=None,
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == {"ok": True}

    # With the promoted build drained, nobody may answer: the query is refused at once.
    await engine.drain_task_queue_build_id(NS, "q1", "b2")
    with pytest.raises(DomainError) as refused:
        await engine.query_workflow(NS, "pinned", "status")
    assert refused.value.reason == reasons.QUERY_WORKER_UNAVAILABLE
    assert (await engine.describe_task_queue(NS, "q1"))["admission"]["query_tasks"]["status"] == "accepting"


async def test_promotion_pins_new_runs_and_leaves_earlier_ones_alone(
    engine: Engine, clock: FakeClock
) -> None:
    old, new = Driver(engine, worker_id="old"), Driver(engine, worker_id="new")
    await old.register(build_id="b1", **TYPES)
    await new.register(build_id="b2", **TYPES)
    await old.start("before")
    promoted = await engine.promote_task_queue_build_id(NS, "q1", "b2")
    assert promoted["new_start_selected"] is True and promoted["drain_intent"] == "active"
    assert promoted["promoted_at"] is not None
    clock.advance(1)
    assert await engine.promote_task_queue_build_id(NS, "q1", "b2") == promoted  # idempotent
    await old.start("after")

    # The old build may still run the run started before the promotion, not the one after.
    first = await old.poll_wf()
    assert first is not None and first["workflow_id"] == "before"
    await old.complete_wf(first, [{"type": "complete_workflow"}])
    assert await old.poll_wf(timeout=0.05) is None
    pinned = await new.poll_wf()
    assert pinned is not None and pinned["workflow_id"] == "after"

    cohorts = {c["build_id"]: c for c in (await engine.list_task_queue_build_ids(NS, "q1"))["build_ids"]}
    assert cohorts["b2"]["new_start_selected"] is True and cohorts["b1"]["new_start_selected"] is False
    # Promoting another cohort moves the selection; a drained cohort promoted is resumed.
    await engine.drain_task_queue_build_id(NS, "q1", "b1")
    again = await engine.promote_task_queue_build_id(NS, "q1", "b1")
    assert (again["drain_intent"], again["drained_at"], again["new_start_selected"]) == ("active", None, True)
    cohorts = {c["build_id"]: c for c in (await engine.list_task_queue_build_ids(NS, "q1"))["build_ids"]}
    assert cohorts["b2"]["new_start_selected"] is False and cohorts["b2"]["promoted_at"] is None


async def test_a_drain_or_promotion_in_another_namespace_changes_nothing_here(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(build_id="b1", **TYPES)
    await engine.create_namespace(CreateNamespaceRequest("other", None))
    await engine.drain_task_queue_build_id("other", "q1", "b1")
    await engine.promote_task_queue_build_id("other", "q1", "b9")
    await d.start("wf-1")
    assert (await engine.describe_worker(NS, "w1"))["status"] == "active"
    assert await d.poll_wf() is not None  # neither drained nor pinned elsewhere's way
    assert (await engine.list_task_queue_build_ids(NS, "q1"))["build_ids"][0]["drain_intent"] == "active"


async def test_tasks_pinned_to_another_build_never_crowd_out_a_claimers_own(engine: Engine) -> None:
    d = Driver(engine)
    await d.register(build_id="b1", **TYPES)
    await engine.promote_task_queue_build_id(NS, "q1", "b2")
    for n in range(12):  # more than a claim's page of candidates, all older than the next run
        await d.start(f"for-b2-{n}")
    await engine.promote_task_queue_build_id(NS, "q1", "b1")
    await d.start("for-b1")
    task = await d.poll_wf()
    assert task is not None and task["workflow_id"] == "for-b1"
    assert await d.poll_wf(timeout=0.05) is None
