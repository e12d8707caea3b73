"""Updates in the engine: acceptance, delivery one task each in order, the worker's answers.

The driver plays the worker; pre-accept validation goes through a query task of kind
``update_validation`` only when a worker registered that capability.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_workflow.protocol import codec
from durable_workflow_server.engine.api import UpdateRequest
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from tests.server.engine.engine_driver import NS, Driver


def update(name: str = "set", args: Any = None, **kwargs: Any) -> UpdateRequest:
    return UpdateRequest(
        workflow_id="wf-1", update_name=name, arguments=codec.envelope(args or [1]), **kwargs
    )


async def waiting(driver: Driver) -> dict[str, Any]:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None and task["workflow_update_id"] is None
    await driver.complete_wf(task, [{"type": "open_condition_wait", "condition_key": "k"}])
    return started


def complete_update(update_id: str, value: Any) -> dict[str, Any]:
    return {"type": "complete_update", "update_id": update_id, "result": codec.envelope(value)}


async def test_an_accepted_update_is_delivered_and_completed(driver: Driver) -> None:
    engine = driver.engine
    started = await waiting(driver)
    accepted = await engine.update_workflow(NS, update("set", [True]))
    assert accepted["update_status"] == "accepted" and accepted["outcome"] is None
    assert accepted["command_status"] == "accepted" and accepted["wait_for"] == "accepted"
    task = await driver.poll_wf()
    assert task is not None
    assert task["workflow_update_id"] == accepted["update_id"]
    assert (task["workflow_wait_kind"], task["open_wait_id"]) == ("update", f"update:{accepted['update_id']}")
    await driver.complete_wf(task, [complete_update(accepted["update_id"], {"ok": True})])
    follow_up = await driver.poll_wf()  # a plain task: the workflow re-evaluates its wait
    assert follow_up is not None and follow_up["workflow_update_id"] is None
    types = await driver.types("wf-1", started["run_id"])
    assert types[-3:] == ["UpdateAccepted", "UpdateApplied", "UpdateCompleted"]
    events = await driver.history("wf-1", started["run_id"])
    completed = events[-1]["payload"]
    assert codec.decode(completed["result"]) == {"ok": True}
    assert events[-3]["payload"]["update_name"] == "set"
    assert "ConditionWaitSatisfied" not in types  # an update task satisfies no wait


async def test_wait_for_completed_returns_the_result_or_the_failure(driver: Driver) -> None:
    engine = driver.engine
    await waiting(driver)
    asking = asyncio.ensure_future(engine.update_workflow(NS, update("set", wait_for="completed")))
    task = await driver.poll_wf(timeout=5.0)
    assert task is not None
    await driver.complete_wf(task, [complete_update(task["workflow_update_id"], 42)])
    done = await asyncio.wait_for(asking, 5.0)
    assert (done["update_status"], done["outcome"], done["result"]) == ("completed", "update_completed", 42)
    assert codec.decode_envelope(done["result_envelope"]) == 42
    assert done["closed_at"] is not None and done["applied_at"] is not None

    failing = asyncio.ensure_future(engine.update_workflow(NS, update("set", wait_for="completed")))
    plain = await driver.poll_wf(timeout=5.0)  # the plain task queued after the first update
    assert plain is not None
    task = plain if plain["workflow_update_id"] else await driver.poll_wf(timeout=5.0)
    if task is not plain:
        await driver.complete_wf(plain, [{"type": "open_condition_wait", "condition_key": "k"}])
        task = await driver.poll_wf(timeout=5.0)
    assert task is not None and task["workflow_update_id"]
    fail = {
        "type": "fail_update",
        "update_id": task["workflow_update_id"],
        "message": "nope",
        "exception_type": "E",
    }
    await driver.complete_wf(task, [fail])
    failed = await asyncio.wait_for(failing, 5.0)
    assert (failed["update_status"], failed["outcome"], failed["reason"]) == (
        "failed",
        "update_failed",
        "update_failed",
    )
    assert failed["failure_message"] == "nope" and failed["message"] == "nope"


async def test_a_completed_wait_that_times_out_answers_accepted(driver: Driver) -> None:
    await waiting(driver)
    body = await driver.engine.update_workflow(NS, update(wait_for="completed", wait_timeout_seconds=1))
    assert body["update_status"] == "accepted" and body["wait_timed_out"] is True


async def test_several_updates_are_delivered_one_at_a_time_in_order(driver: Driver) -> None:
    engine = driver.engine
    await waiting(driver)
    first = await engine.update_workflow(NS, update("a"))
    second = await engine.update_workflow(NS, update("b"))
    task = await driver.poll_wf()
    assert task is not None and task["workflow_update_id"] == first["update_id"]
    assert await driver.poll_wf(timeout=0.0) is None  # the second waits its turn
    await driver.complete_wf(task, [complete_update(first["update_id"], 1)])
    seen = []
    for _ in range(2):
        next_task = await driver.poll_wf()
        assert next_task is not None
        seen.append(next_task["workflow_update_id"])
        answer = (
            [complete_update(second["update_id"], 2)]
            if next_task["workflow_update_id"]
            else [{"type": "open_condition_wait", "condition_key": "k"}]
        )
        await driver.complete_wf(next_task, answer)
    assert second["update_id"] in seen and None in seen


@pytest.mark.parametrize(
    "command",
    [
        {"type": "complete_update", "update_id": "not-an-update"},
        {"type": "fail_update", "update_id": "not-an-update", "message": "x"},
    ],
)
async def test_answers_to_unknown_or_foreign_updates_are_invalid_commands(
    driver: Driver, command: dict[str, Any]
) -> None:
    engine = driver.engine
    started = await waiting(driver)
    accepted = await engine.update_workflow(NS, update())
    task = await driver.poll_wf()
    assert task is not None
    before = await driver.types("wf-1", started["run_id"])
    with pytest.raises(DomainError) as info:
        await driver.complete_wf(task, [command])
    assert info.value.reason == "invalid_commands"
    twice = [complete_update(accepted["update_id"], 1), complete_update(accepted["update_id"], 2)]
    with pytest.raises(DomainError):
        await driver.complete_wf(task, twice)
    assert await driver.types("wf-1", started["run_id"]) == before


async def test_validation_runs_before_acceptance_and_a_refusal_records_nothing(driver: Driver) -> None:
    engine = driver.engine
    started = await waiting(driver)
    await driver.register_query_worker(validation=True)
    before = await driver.types("wf-1", started["run_id"])

    async def validated(failure: dict[str, Any] | None) -> Any:
        asking = asyncio.ensure_future(engine.update_workflow(NS, update("set", [False])))
        task = await engine.poll_query_task(NS, worker_id="w1", task_queue="q1", timeout=5.0)
        assert task is not None
        assert (task["query_task_kind"], task["update_name"], task["query_name"]) == (
            "update_validation",
            "set",
            "set",
        )
        assert codec.decode_envelope(task["query_arguments"]) == [False]
        fence = {"lease_owner": "w1", "query_task_attempt": 1}
        if failure is None:
            await engine.complete_query_task(
                NS, task["query_task_id"], **fence, result={"accepted": True}, result_envelope=None
            )
        else:
            await engine.fail_query_task(NS, task["query_task_id"], **fence, failure=failure)
        return await asyncio.wait_for(asking, 5.0)

    with pytest.raises(DomainError) as refused:
        await validated({"message": "approved must be boolean", "reason": "update_rejected"})
    assert refused.value.reason == "update_rejected" and refused.value.message == "approved must be boolean"
    assert refused.value.extra["update_status"] == "rejected"
    with pytest.raises(DomainError) as unknown:
        await validated({"message": "no such update", "reason": "unknown_update"})
    assert unknown.value.reason == "unknown_update"
    assert await driver.types("wf-1", started["run_id"]) == before  # nothing recorded
    accepted = await validated(None)
    assert accepted["update_status"] == "accepted"
    assert (await driver.types("wf-1", started["run_id"]))[-1] == "UpdateAccepted"


async def test_a_worker_without_validation_never_gets_validation_tasks(driver: Driver) -> None:
    engine = driver.engine
    await waiting(driver)
    await driver.register_query_worker()
    accepted = await engine.update_workflow(NS, update())  # accepted directly: nobody validates
    assert accepted["update_status"] == "accepted"
    assert await engine.poll_query_task(NS, worker_id="w1", task_queue="q1", timeout=0.0) is None


async def test_closing_the_run_fails_open_updates_and_refuses_new_ones(driver: Driver) -> None:
    engine: Engine = driver.engine
    await waiting(driver)
    asking = asyncio.ensure_future(
        engine.update_workflow(NS, update(wait_for="completed", wait_timeout_seconds=30))
    )
    task = await driver.poll_wf(timeout=5.0)
    assert task is not None and task["workflow_update_id"]
    await driver.complete_wf(task, [{"type": "complete_workflow", "result": codec.envelope("done")}])
    failed = await asyncio.wait_for(asking, 5.0)
    assert failed["update_status"] == "failed"
    assert failed["failure_message"] == "The workflow run closed before the update completed."
    with pytest.raises(DomainError) as closed:
        await engine.update_workflow(NS, update())
    assert closed.value.reason == "run_not_active"
    with pytest.raises(DomainError) as missing:
        await engine.update_workflow(
            NS, UpdateRequest(workflow_id="nope", update_name="x", arguments=codec.envelope([]))
        )
    assert missing.value.reason == "instance_not_found"


async def test_a_failed_update_task_is_redelivered_with_its_update(driver: Driver) -> None:
    engine = driver.engine
    await waiting(driver)
    accepted = await engine.update_workflow(NS, update())
    task = await driver.poll_wf()
    assert task is not None
    await engine.fail_workflow_task(
        NS, task["task_id"], lease_owner="w1", workflow_task_attempt=1, failure={"message": "crash"}
    )
    again = await driver.poll_wf(timeout=5.0)
    assert again is not None and again["workflow_update_id"] == accepted["update_id"]
