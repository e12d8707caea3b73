"""The operator's worker registry: list filters, describe, idempotent deregister, stale ageing, pruning."""

from __future__ import annotations

import pytest

from durable_workflow.protocol import errors as reasons
from durable_workflow_server.engine.api import RegisterWorkerRequest
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.namespaces.api import CreateNamespaceRequest
from durable_workflow_server.engine.service import Engine
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity


async def test_list_and_describe_report_the_registration(driver: Driver, clock: FakeClock) -> None:
    engine = driver.engine
    await driver.register("w2", queue="q2", build_id="b7", sdk_version="durable-workflow/9.9",
                          supported_workflow_types=["greeter"], supported_activity_types=["greet"],
                          workflow_definition_fingerprints={"greeter": "sha256:abc"},
                          max_concurrent_workflow_tasks=4, max_concurrent_activity_tasks=8)  # fmt: skip
    clock.advance(1)
    await engine.heartbeat_worker(NS, "w1")
    listed = await engine.list_workers(NS)
    assert [w["worker_id"] for w in listed["workers"]] == ["w1", "w2"]  # most recent heartbeat first
    assert listed["stale_after_seconds"] == 60
    assert [w["worker_id"] for w in (await engine.list_workers(NS, task_queue="q2"))["workers"]] == ["w2"]

    described = await engine.describe_worker(NS, "w2")
    assert (described["runtime"], described["sdk_version"], described["build_id"]) == (
        "python", "durable-workflow/9.9", "b7",
    )  # fmt: skip
    assert described["supported_workflow_types"] == ["greeter"]
    assert described["supported_activity_types"] == ["greet"]
    assert described["workflow_definition_fingerprints"] == {"greeter": "sha256:abc"}
    assert (described["status"], described["is_stale"]) == ("active", False)
    assert described["admission"]["workflow_tasks"] == {
        "max_concurrent": 4, "leased_count": 0, "available_slot_count": 4,
    }  # fmt: skip

    with pytest.raises(DomainError) as refused:
        await engine.describe_worker(NS, "nobody")
    assert refused.value.reason == reasons.WORKER_NOT_FOUND


async def test_describe_counts_the_workers_own_leases(driver: Driver) -> None:
    await driver.register(supported_workflow_types=["greeter"], supported_activity_types=["greet"],
                          max_concurrent_activity_tasks=2)  # fmt: skip
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    admission = (await driver.engine.describe_worker(NS, "w1"))["admission"]
    assert admission["workflow_tasks"]["leased_count"] == 1
    await driver.complete_wf(task, [activity()])
    assert await driver.poll_act() is not None
    admission = (await driver.engine.describe_worker(NS, "w1"))["admission"]
    assert admission["workflow_tasks"]["leased_count"] == 0
    assert admission["activity_tasks"] == {"max_concurrent": 2, "leased_count": 1, "available_slot_count": 1}


async def test_stale_workers_age_out_and_the_status_filter_follows(driver: Driver, clock: FakeClock) -> None:
    engine = driver.engine
    await driver.register("w2")
    clock.advance(61)
    await engine.heartbeat_worker(NS, "w2")

    def ids(body: dict[str, object]) -> list[str]:
        return [w["worker_id"] for w in body["workers"]]  # type: ignore[attr-defined, index]

    assert ids(await engine.list_workers(NS, status="stale")) == ["w1"]
    assert ids(await engine.list_workers(NS, status="active")) == ["w2"]
    assert ids(await engine.list_workers(NS, status="draining")) == []
    described = await engine.describe_worker(NS, "w1")
    assert (described["status"], described["is_stale"]) == ("stale", True)
    # A heartbeat brings it back.
    await engine.heartbeat_worker(NS, "w1")
    assert (await engine.describe_worker(NS, "w1"))["status"] == "active"


async def test_the_background_loop_prunes_long_stale_registrations(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = await make_engine(worker_prune_after_seconds=3600.0)
    driver = Driver(engine)
    await driver.register("old")
    clock.advance(1800)
    await driver.register("recent")
    await engine.tick()
    assert {w["worker_id"] for w in (await engine.list_workers(NS))["workers"]} == {"old", "recent"}
    clock.advance(1801)  # "old" silent for 3601 s, "recent" for 1801 s
    await engine.tick()
    assert [w["worker_id"] for w in (await engine.list_workers(NS))["workers"]] == ["recent"]


async def test_deregister_is_idempotent_and_in_flight_leases_finish(driver: Driver) -> None:
    engine = driver.engine
    await driver.register(supported_workflow_types=["greeter"], supported_activity_types=["greet"])
    await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    act = await driver.poll_act()
    assert act is not None
    await driver.start("wf-2")
    task2 = await driver.poll_wf()
    assert task2 is not None

    assert await engine.deregister_worker(NS, "w1") == {"worker_id": "w1", "outcome": "deregistered"}
    assert await engine.deregister_worker(NS, "w1") == {"worker_id": "w1", "outcome": "already_absent"}
    assert (await engine.list_workers(NS))["workers"] == []

    # Both leases the worker held run to their end.
    beat = await engine.heartbeat_activity_task(
        NS, act["task_id"], activity_attempt_id=act["activity_attempt_id"], lease_owner="w1", progress={}
    )
    assert beat["cancel_requested"] is False
    assert (await driver.complete_act(act, "done"))["outcome"] == "completed"
    assert (await driver.complete_wf(task2, [{"type": "complete_workflow"}]))["outcome"] == "completed"
    # New polls need a registration again.
    with pytest.raises(DomainError) as refused:
        await driver.poll_wf()
    assert refused.value.reason == reasons.WORKER_NOT_REGISTERED


async def test_workers_are_namespace_scoped(driver: Driver, engine: Engine) -> None:
    await engine.create_namespace(CreateNamespaceRequest("other", None))
    await engine.register_worker(
        "other", RegisterWorkerRequest(task_queue="q1", runtime="python", worker_id="w1")
    )
    await engine.deregister_worker("other", "w1")
    # Namespace B removed its own w1; namespace A's w1 is untouched and B never listed it.
    assert [w["worker_id"] for w in (await engine.list_workers(NS))["workers"]] == ["w1"]
    assert (await engine.list_workers("other"))["workers"] == []
    assert await engine.deregister_worker("other", "w1") == {"worker_id": "w1", "outcome": "already_absent"}
    with pytest.raises(DomainError):
        await engine.describe_worker("other", "w1")
