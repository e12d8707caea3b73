"""System reads and the worker registry: readiness, fleet, register/heartbeat rules."""

from __future__ import annotations

import pytest

from durable_workflow_server.engine.api import RegisterWorkerRequest
from durable_workflow_server.engine.errors import DomainError
from tests.server.engine.engine_driver import NS, Driver


async def test_readiness_and_default_namespace(driver: Driver) -> None:
    assert await driver.engine.database_ok() is True
    checks = await driver.engine.readiness_checks()
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"
    assert checks["default_namespace"] == {"status": "ok", "namespace": "default"}
    assert await driver.engine.namespace_exists("default") is True
    assert await driver.engine.namespace_exists("nope") is False


async def test_worker_fleet_and_staleness(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    await driver.register(worker_id="w2", queue="q2", build_id="b1")
    fleet = await driver.engine.worker_fleet(NS)
    assert fleet["active_workers"] == 2 and fleet["queues"] == ["q1", "q2"] and fleet["build_ids"] == ["b1"]
    clock.advance(61)
    assert (await driver.engine.worker_fleet(NS))["active_workers"] == 0
    beat = await driver.engine.heartbeat_worker(NS, "w1")
    # A third of the staleness window, so a live worker never looks stale between heartbeats.
    stale_after = driver.engine.settings.worker_stale_after_seconds
    cadence = int(stale_after // 3)
    assert beat == {"worker_id": "w1", "acknowledged": True, "heartbeat_interval_seconds": cadence}
    assert (await driver.engine.worker_fleet(NS))["active_workers"] == 1
    registered = await driver.register(worker_id="w3", queue="q3")
    assert registered["heartbeat_interval_seconds"] == cadence
    assert registered["stale_after_seconds"] == int(stale_after)


async def test_register_rules(driver: Driver) -> None:
    generated = await driver.engine.register_worker(
        NS, RegisterWorkerRequest(task_queue="q1", runtime="python")
    )
    assert generated["registered"] is True and generated["worker_id"].isupper()
    await driver.register(
        worker_id="wf",
        workflow_definition_fingerprints={"greeter": "sha256:a"},
        supported_workflow_types=["greeter"],
    )
    with pytest.raises(DomainError) as err:
        await driver.register(
            worker_id="wf",
            workflow_definition_fingerprints={"greeter": "sha256:b"},
            supported_workflow_types=["greeter"],
        )
    assert err.value.reason == "workflow_definition_changed" and err.value.extra["workflow_type"] == "greeter"
    with pytest.raises(DomainError) as err:
        await driver.engine.heartbeat_worker(NS, "ghost")
    assert err.value.reason == "worker_not_registered"
