"""The query-task broker: a caller parked on ``query_workflow`` until a worker's answer.

Real SQLite file (and PostgreSQL with ``DW_TEST_POSTGRES_URL``); the driver plays the worker.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import RegisterWorkerRequest
from durable_workflow_server.engine.errors import DomainError, WorkerRefusal
from durable_workflow_server.engine.queries import broker, service
from durable_workflow_server.engine.queries.broker import poll_key
from durable_workflow_server.engine.runs.rows import load_run
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.conftest import EngineFactory, FakeClock
from tests.server.engine.engine_driver import NS, Driver, activity, parked


@pytest.fixture
async def driver(engine: Engine) -> Driver:
    """The driver, its worker ``w1`` answering query tasks for ``greeter``."""
    d = Driver(engine)
    await d.register_query_worker()
    return d


async def query_rows(engine: Engine) -> list[dict[str, Any]]:
    async with engine.store.read() as conn:
        return [dict(r) for r in (await conn.execute(sa.select(t.query_tasks))).mappings().all()]


async def poll_query(engine: Engine, worker_id: str = "w1", timeout: float = 5.0) -> dict[str, Any] | None:
    task = await engine.poll_query_task(NS, worker_id=worker_id, task_queue="q1", timeout=timeout)
    return dict(task) if task is not None else None


async def waiting_run(driver: Driver, workflow_id: str = "wf-1") -> dict[str, Any]:
    """A started run that has scheduled one activity and waits for it."""
    started = await driver.start(workflow_id)
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    return started


async def test_a_query_reaches_a_worker_and_its_answer_the_caller(driver: Driver) -> None:
    engine = driver.engine
    started = await waiting_run(driver)
    before = await driver.types("wf-1", started["run_id"])
    asking = asyncio.ensure_future(
        engine.query_workflow(NS, "wf-1", "status", arguments=codec.envelope(["x", 2]))
    )
    task = await poll_query(engine)
    assert task is not None
    assert task["query_task_attempt"] == 1 and task["query_task_kind"] == "query"
    assert (task["workflow_id"], task["run_id"], task["query_name"]) == ("wf-1", started["run_id"], "status")
    assert codec.decode_envelope(task["query_arguments"]) == ["x", 2]
    assert codec.decode_envelope(task["workflow_arguments"]) == ["Ada"]
    assert [e["event_type"] for e in task["history_events"]] == before
    assert "namespace" not in task["history_events"][0]
    assert task["last_history_sequence"] == len(before) and task["lease_owner"] == "w1"
    answered = await engine.complete_query_task(
        NS,
        task["query_task_id"],
        lease_owner="w1",
        query_task_attempt=1,
        result={"ok": True},
        result_envelope=dict(codec.envelope({"ok": True})),
    )
    assert answered == {
        "query_task_id": task["query_task_id"],
        "query_task_attempt": 1,
        "outcome": "completed",
        "reason": None,
    }
    result = await asyncio.wait_for(asking, 5.0)
    assert result["result"] == {"ok": True} and result["target_scope"] == "instance"
    assert codec.decode_envelope(result["result_envelope"]) == {"ok": True}
    assert await query_rows(engine) == []  # answered: forgotten
    assert await driver.types("wf-1", started["run_id"]) == before  # and nothing recorded


async def test_a_query_without_arguments_and_a_result_sent_only_as_an_envelope(driver: Driver) -> None:
    engine = driver.engine
    await waiting_run(driver)
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    task = await poll_query(engine)
    assert task is not None
    assert task["query_arguments"] == {"codec": None, "blob": None}
    await engine.complete_query_task(
        NS,
        task["query_task_id"],
        lease_owner="w1",
        query_task_attempt=1,
        result=None,
        result_envelope=dict(codec.envelope([1, 2])),
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == [1, 2]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ({"message": "no such query", "reason": "rejected_unknown_query"}, "rejected_unknown_query"),
        ({"message": "handler raised"}, "query_rejected"),
    ],
)
async def test_a_worker_refusal_reaches_the_caller(
    driver: Driver, failure: dict[str, Any], reason: str
) -> None:
    engine = driver.engine
    await waiting_run(driver)
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "nope"))
    task = await poll_query(engine)
    assert task is not None
    await engine.fail_query_task(
        NS, task["query_task_id"], lease_owner="w1", query_task_attempt=1, failure=failure
    )
    with pytest.raises(WorkerRefusal) as info:
        await asyncio.wait_for(asking, 5.0)
    assert info.value.reason == reason
    assert info.value.message == failure["message"]
    assert info.value.extra["query_name"] == "nope"
    assert await query_rows(engine) == []


async def test_the_query_task_fence(driver: Driver) -> None:
    engine = driver.engine
    await waiting_run(driver)
    await driver.register_query_worker("w2")
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    task = await poll_query(engine)
    assert task is not None
    query_task_id = task["query_task_id"]

    async def refused(**fence: Any) -> DomainError:
        values = {"lease_owner": "w1", "query_task_attempt": 1, **fence}
        with pytest.raises(DomainError) as info:
            await engine.complete_query_task(NS, **values, result=1, result_envelope=None)
        assert info.value.extra["outcome"] == "rejected"
        return info.value

    assert (await refused(query_task_id="nope")).reason == "query_task_not_found"
    mismatch = await refused(query_task_id=query_task_id, lease_owner="w2")
    assert mismatch.reason == "lease_owner_mismatch" and mismatch.extra["lease_owner"] == "w1"
    stale = await refused(query_task_id=query_task_id, query_task_attempt=2)
    assert stale.reason == "query_task_attempt_mismatch" and stale.extra["current_attempt"] == 1
    with pytest.raises(DomainError) as other_namespace:
        await engine.complete_query_task(
            "elsewhere", query_task_id, lease_owner="w1", query_task_attempt=1, result=1, result_envelope=None
        )
    assert other_namespace.value.reason == "query_task_not_found"
    await engine.complete_query_task(
        NS, query_task_id, lease_owner="w1", query_task_attempt=1, result=1, result_envelope=None
    )
    await asyncio.wait_for(asking, 5.0)
    assert (await refused(query_task_id=query_task_id)).reason == "query_task_not_found"


async def test_an_expired_lease_is_handed_to_the_next_poller(driver: Driver, clock: FakeClock) -> None:
    engine = driver.engine
    # By default a lease lasts a third of the caller's wait: the task of a worker that died
    # holding it is leased again well before the caller gives up with 504.
    lease = engine.settings.query_lease_seconds
    assert lease * 3 <= engine.settings.query_task_timeout
    await waiting_run(driver)
    await driver.register_query_worker("w2")
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    first = await poll_query(engine)
    assert first is not None
    clock.advance(lease - 1)
    assert await poll_query(engine, "w2", timeout=0.0) is None  # still w1's
    clock.advance(2)
    second = await poll_query(engine, "w2")
    assert second is not None
    assert (second["query_task_id"], second["query_task_attempt"]) == (first["query_task_id"], 2)
    with pytest.raises(DomainError) as late:
        await engine.complete_query_task(
            NS, first["query_task_id"], lease_owner="w1", query_task_attempt=1, result=1, result_envelope=None
        )
    assert late.value.reason == "lease_owner_mismatch"
    await engine.complete_query_task(
        NS, second["query_task_id"], lease_owner="w2", query_task_attempt=2, result=2, result_envelope=None
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == 2


async def test_a_released_query_task_goes_back_to_the_queue(driver: Driver) -> None:
    engine = driver.engine
    await waiting_run(driver)
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    first = await poll_query(engine)
    assert first is not None
    assert await engine.release_query_task(NS, first["query_task_id"], lease_owner="w1", query_task_attempt=1)
    assert not await engine.release_query_task(
        NS, first["query_task_id"], lease_owner="w1", query_task_attempt=1
    )
    second = await poll_query(engine)
    assert second is not None and second["query_task_attempt"] == 2
    await engine.complete_query_task(
        NS, second["query_task_id"], lease_owner="w1", query_task_attempt=2, result=3, result_envelope=None
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == 3


async def test_a_parked_poller_is_woken_by_a_query(driver: Driver) -> None:
    engine = driver.engine
    await waiting_run(driver)
    polling = asyncio.ensure_future(poll_query(engine, timeout=60.0))
    await parked(engine, poll_key(NS, "q1"))
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    task = await asyncio.wait_for(polling, 10.0)
    assert task is not None
    await engine.complete_query_task(
        NS, task["query_task_id"], lease_owner="w1", query_task_attempt=1, result="hi", result_envelope=None
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == "hi"


async def test_no_live_worker_is_refused_at_once(driver: Driver, clock: FakeClock) -> None:
    engine = driver.engine
    await waiting_run(driver)
    clock.advance(engine.settings.worker_stale_after_seconds + 1)  # w1 goes stale
    with pytest.raises(DomainError) as stale:
        await engine.query_workflow(NS, "wf-1", "status")
    assert stale.value.reason == "query_worker_unavailable"
    await driver.register("other-types", supported_workflow_types=["something-else"])
    await engine.register_worker(NS, RegisterWorkerRequest(task_queue="q1", runtime="php", worker_id="php"))
    with pytest.raises(DomainError) as typed:
        await engine.query_workflow(NS, "wf-1", "status")
    assert typed.value.reason == "query_worker_unavailable"
    assert await query_rows(engine) == []


async def test_unknown_workflow_and_historical_run_are_refused(driver: Driver) -> None:
    engine = driver.engine
    await waiting_run(driver)
    with pytest.raises(DomainError) as missing:
        await engine.query_workflow(NS, "wf-none", "status")
    assert missing.value.reason == "instance_not_found"
    with pytest.raises(DomainError) as historical:
        await engine.query_workflow(NS, "wf-1", "status", run_id="not-the-current-run")
    assert historical.value.reason == "historical_run_command_rejected"
    assert await query_rows(engine) == []


async def test_nobody_answering_times_out_and_leaves_nothing(make_engine: EngineFactory) -> None:
    engine = await make_engine(query_task_timeout=0.2)
    driver = Driver(engine)
    await driver.register_query_worker()
    await waiting_run(driver)
    with pytest.raises(DomainError) as info:
        await engine.query_workflow(NS, "wf-1", "status")
    assert info.value.reason == "query_worker_timeout"
    assert await query_rows(engine) == []


async def test_expired_query_tasks_are_purged_and_never_handed_out(driver: Driver, clock: FakeClock) -> None:
    engine = driver.engine
    started = await waiting_run(driver)
    async with engine._tx() as tx:  # a caller that crashed before forgetting its task
        run = await load_run(tx, started["run_id"])
        assert run is not None
        await broker.enqueue(tx, run, kind="query", name="status", arguments=None, expires_at=tx.now)
    assert len(await query_rows(engine)) == 1
    assert await poll_query(engine, timeout=0.0) is None  # its caller is gone: not handed out
    await engine.tick()
    assert await query_rows(engine) == []


async def test_only_workers_promising_query_tasks_for_the_type_count_and_get_tasks(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    driver = Driver(engine)
    await driver.register()  # no workflow types, no promise (an activity worker of ours)
    await waiting_run(driver)
    # SDK 0.4.84 on an activity-only worker: promises query tasks but runs no workflow type.
    await driver.register("sdk-activities", capabilities=["query_tasks"])
    # Runs the type but does not poll query tasks.
    await driver.register("no-promise", supported_workflow_types=["greeter"])
    with pytest.raises(DomainError) as info:
        await engine.query_workflow(NS, "wf-1", "status")
    assert info.value.reason == "query_worker_unavailable"
    assert await query_rows(engine) == []
    await driver.register_query_worker("answering")
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    await asyncio.wait_for(wait_rows(engine), 5.0)  # pending, and claimable by the right worker only
    for worker_id in ("w1", "sdk-activities", "no-promise"):
        assert await poll_query(engine, worker_id, timeout=0.0) is None
    task = await poll_query(engine, "answering")
    assert task is not None
    await engine.complete_query_task(
        NS,
        task["query_task_id"],
        lease_owner="answering",
        query_task_attempt=1,
        result=7,
        result_envelope=None,
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == 7


async def wait_rows(engine: Engine) -> list[dict[str, Any]]:
    """The query-task rows, once the caller has inserted its task."""
    while not (found := await query_rows(engine)):
        await asyncio.sleep(0)
    return found


async def test_a_task_refused_as_not_my_type_goes_back_for_another_worker(driver: Driver) -> None:
    engine = driver.engine
    await waiting_run(driver)
    await driver.register_query_worker("w2")
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    first = await poll_query(engine)
    assert first is not None
    answered = await engine.fail_query_task(
        NS,
        first["query_task_id"],
        lease_owner="w1",
        query_task_attempt=1,
        failure={"message": "not here", "reason": "query_workflow_type_not_registered"},
    )
    assert answered["outcome"] == "released"
    [row] = await query_rows(engine)
    assert (row["status"], row["lease_owner"]) == ("pending", None)
    assert not asking.done()
    second = await poll_query(engine, "w2")
    assert second is not None and second["query_task_attempt"] == 2
    await engine.complete_query_task(
        NS, second["query_task_id"], lease_owner="w2", query_task_attempt=2, result="ok", result_envelope=None
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == "ok"


@pytest.mark.parametrize("failure", [{}, {"message": ""}, {"message": None, "reason": "query_rejected"}])
async def test_a_blank_refusal_message_gets_a_default(driver: Driver, failure: dict[str, Any]) -> None:
    engine = driver.engine
    await waiting_run(driver)
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    task = await poll_query(engine)
    assert task is not None
    await engine.fail_query_task(
        NS, task["query_task_id"], lease_owner="w1", query_task_attempt=1, failure=failure
    )
    with pytest.raises(WorkerRefusal) as info:
        await asyncio.wait_for(asking, 5.0)
    assert info.value.reason == "query_rejected"
    assert info.value.message == "Query [status] was rejected by the worker."


async def test_an_answer_after_the_callers_deadline_is_query_task_timed_out(
    driver: Driver, clock: FakeClock
) -> None:
    engine = driver.engine
    started = await waiting_run(driver)
    async with engine._tx() as tx:  # a caller whose deadline is a second away
        run = await load_run(tx, started["run_id"])
        assert run is not None
        query_task_id = await broker.enqueue(
            tx, run, kind="query", name="status", arguments=None, expires_at=tx.now + timedelta(seconds=1)
        )
    task = await poll_query(engine)
    assert task is not None and task["query_task_id"] == query_task_id
    clock.advance(2)
    for answer in (
        engine.complete_query_task(
            NS, query_task_id, lease_owner="w1", query_task_attempt=1, result=1, result_envelope=None
        ),
        engine.fail_query_task(
            NS, query_task_id, lease_owner="w1", query_task_attempt=1, failure={"message": "late"}
        ),
    ):
        with pytest.raises(DomainError) as late:
            await answer
        assert late.value.reason == "query_task_timed_out"


async def test_a_query_poll_cancelled_mid_claim_hands_the_task_back(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = driver.engine
    await waiting_run(driver)
    real_cancel_safe = service.cancel_safe
    claimed = asyncio.Event()
    proceed = asyncio.Event()

    async def slow_cancel_safe(claim: Any, release: Any) -> Any:
        async def committed_then_slow() -> Any:
            result = await claim()  # its transaction has committed the lease
            if result is not None:  # (a probe before the caller's task is in finds nothing)
                claimed.set()
                await proceed.wait()  # the poller gives up before receiving it
            return result

        return await real_cancel_safe(committed_then_slow, release)

    monkeypatch.setattr(service, "cancel_safe", slow_cancel_safe)
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    poll = asyncio.ensure_future(poll_query(engine))
    await asyncio.wait_for(claimed.wait(), 5.0)
    poll.cancel()
    await asyncio.sleep(0)
    proceed.set()
    with pytest.raises(asyncio.CancelledError):
        await poll
    monkeypatch.setattr(service, "cancel_safe", real_cancel_safe)
    [row] = await query_rows(engine)
    assert (row["status"], row["lease_owner"]) == ("pending", None)  # back at once, not at lease expiry
    again = await poll_query(engine)
    assert again is not None and again["query_task_attempt"] == 2
    await engine.complete_query_task(
        NS, again["query_task_id"], lease_owner="w1", query_task_attempt=2, result=1, result_envelope=None
    )
    assert (await asyncio.wait_for(asking, 5.0))["result"] == 1


async def test_an_idle_query_poll_is_held_only_briefly(make_engine: EngineFactory) -> None:
    # SDK 0.4.84's Worker.stop() joins its query poller, which sees the stop only between polls.
    engine = await make_engine(query_task_poll_timeout=0.2, long_poll_timeout=30.0)
    driver = Driver(engine)
    await driver.register_query_worker()
    started = asyncio.get_running_loop().time()
    assert await engine.poll_query_task(NS, worker_id="w1", task_queue="q1") is None
    assert asyncio.get_running_loop().time() - started < 10.0  # not the 30 s workflow-task hold


async def test_a_result_the_worker_stored_externally_reaches_the_caller_as_its_reference(
    driver: Driver,
) -> None:
    engine = driver.engine
    await waiting_run(driver)
    asking = asyncio.ensure_future(engine.query_workflow(NS, "wf-1", "status"))
    task = await poll_query(engine)
    assert task is not None
    reference = {
        "codec": "avro",
        "external_storage": {
            "schema": "durable-workflow.v2.external-payload-reference.v1",
            "uri": "file:///payloads/ab/result.avro",
            "sha256": "ab" * 32,
            "size_bytes": 300_000,
            "codec": "avro",
        },
    }
    await engine.complete_query_task(
        NS,
        task["query_task_id"],
        lease_owner="w1",
        query_task_attempt=1,
        result=None,
        result_envelope=reference,
    )
    answered = await asyncio.wait_for(asking, 5.0)
    assert answered["result_envelope"] == reference and answered["result"] is None
