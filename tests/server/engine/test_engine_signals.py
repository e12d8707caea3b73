"""Signals on the engine: recorded with their arguments, waking the run, never lost while a task
is leased, de-duplicated by ``request_id``, refused for closed, historical and unknown runs."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.engine.signals.receiving import SignalRequest
from durable_workflow_server.store import tables as t
from tests.server.engine.engine_driver import NS, Driver, activity, complete


def signal(
    workflow_id: str = "wf-1", name: str = "approve", args: Any = None, **kwargs: Any
) -> SignalRequest:
    envelope = codec.envelope(args if args is not None else ["alice"])
    return SignalRequest(workflow_id, name, envelope["codec"], envelope["blob"], **kwargs)


async def signal_rows(engine: Engine) -> list[dict[str, Any]]:
    async with engine.store.read() as conn:
        rows = (await conn.execute(sa.select(t.signals).order_by(t.signals.c.history_sequence))).mappings()
        return [dict(r) for r in rows]


async def test_a_signal_is_recorded_with_its_arguments_and_wakes_a_waiting_run(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    assert await driver.poll_wf() is None  # waiting on the activity

    answer = await driver.engine.signal_workflow(NS, signal(args=["alice", 2]))
    assert answer["outcome"] == "signal_received"
    assert answer["signal_name"] == "approve"
    assert answer["command_status"] == "accepted"
    assert answer["target_scope"] == "instance"
    assert answer["run_id"] == started["run_id"]

    events = await driver.history("wf-1", started["run_id"])
    received = events[-1]
    assert received["event_type"] == "SignalReceived"
    assert received["sequence"] == answer["command_sequence"]
    payload = received["payload"]
    assert payload["signal_name"] == "approve"
    assert payload["signal_id"] == answer["signal_id"]
    assert payload["workflow_command_id"] == answer["command_id"]
    assert codec.decode(payload["arguments"], payload["payload_codec"]) == ["alice", 2]

    woken = await driver.poll_wf()
    assert woken is not None, "a signal gives a waiting run a workflow task"
    assert woken["history_events"][-1]["event_type"] == "SignalReceived"
    (row,) = await signal_rows(driver.engine)
    assert row["status"] == "received"
    # The activity was scheduled already: the re-sent command is the same step, and the signal
    # the worker saw is applied.
    await driver.complete_wf(woken, [activity()])
    (row,) = await signal_rows(driver.engine)
    assert row["status"] == "applied"


async def test_a_signal_during_a_leased_task_is_delivered_in_the_next_task(driver: Driver) -> None:
    started = await driver.start()
    leased = await driver.poll_wf()
    assert leased is not None
    await driver.engine.signal_workflow(NS, signal())
    # The ready task beside the leased one is not handed to another worker meanwhile.
    await driver.register("w2")
    assert await driver.poll_wf(worker_id="w2") is None
    await driver.complete_wf(leased, [activity()])
    following = await driver.poll_wf(worker_id="w2")
    assert following is not None, "the completion must not swallow the task the signal queued"
    assert "SignalReceived" in [e["event_type"] for e in following["history_events"]]
    await driver.complete_wf(following, [complete("done")])
    assert (await driver.types("wf-1", started["run_id"]))[-1] == "WorkflowCompleted"


async def test_a_retried_request_id_answers_the_same_result_and_records_nothing(driver: Driver) -> None:
    started = await driver.start()
    first = await driver.engine.signal_workflow(NS, signal(request_id="req-1"))
    again = await driver.engine.signal_workflow(NS, signal(request_id="req-1", args=["other"]))
    assert again == first
    other = await driver.engine.signal_workflow(NS, signal(request_id="req-2"))
    assert other["command_id"] != first["command_id"]
    types = await driver.types("wf-1", started["run_id"])
    assert types.count("SignalReceived") == 2
    assert len(await signal_rows(driver.engine)) == 2

    # After the run closed, the retry still gets its answer; a new signal is refused.
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    assert await driver.engine.signal_workflow(NS, signal(request_id="req-1")) == first
    with pytest.raises(DomainError) as info:
        await driver.engine.signal_workflow(NS, signal(request_id="req-3"))
    assert info.value.reason == reasons.RUN_NOT_ACTIVE


async def test_signals_to_closed_unknown_and_historical_runs_are_refused_and_write_nothing(
    driver: Driver,
) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    before = await driver.types("wf-1", started["run_id"])

    cases = [
        (signal(), reasons.RUN_NOT_ACTIVE),
        (signal(workflow_id="nope"), reasons.INSTANCE_NOT_FOUND),
        (signal(run_id="not-the-current-run"), reasons.HISTORICAL_RUN_COMMAND_REJECTED),
    ]
    for request, reason in cases:
        with pytest.raises(DomainError) as info:
            await driver.engine.signal_workflow(NS, request)
        assert info.value.reason == reason
    with pytest.raises(DomainError) as info:
        await driver.engine.signal_workflow("other-namespace", signal())
    assert info.value.reason == reasons.INSTANCE_NOT_FOUND
    assert await driver.types("wf-1", started["run_id"]) == before
    assert await signal_rows(driver.engine) == []


async def test_a_run_targeted_signal_to_the_current_run_is_accepted(driver: Driver) -> None:
    started = await driver.start()
    answer = await driver.engine.signal_workflow(NS, signal(run_id=started["run_id"]))
    assert answer["target_scope"] == "run"
    assert answer["requested_run_id"] == started["run_id"]


async def test_a_signal_during_continue_as_new_reaches_the_new_run(driver: Driver) -> None:
    first = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "continue_as_new", "arguments": codec.envelope(["again"])}])
    answer = await driver.engine.signal_workflow(NS, signal())
    assert answer["run_id"] != first["run_id"]
    new_types = await driver.types("wf-1", answer["run_id"])
    assert new_types[-1] == "SignalReceived"
    assert "SignalReceived" not in await driver.types("wf-1", first["run_id"])


@pytest.mark.parametrize(
    "closing", [complete("done"), {"type": "fail_workflow", "message": "gave up"}], ids=["complete", "fail"]
)
async def test_a_completion_closing_the_run_over_an_unseen_signal_is_refused(
    driver: Driver, closing: dict[str, Any]
) -> None:
    started = await driver.start()
    leased = await driver.poll_wf()
    assert leased is not None
    await driver.engine.signal_workflow(NS, signal())
    before = await driver.types("wf-1", started["run_id"])
    refused = await driver.complete_wf(leased, [activity(), closing])
    assert (refused["reason"], refused["recorded"], refused["outcome"]) == (
        "unhandled_signals",
        False,
        "rejected",
    )
    assert "approve" in refused["message"]
    assert await driver.types("wf-1", started["run_id"]) == before  # nothing of the batch applied
    following = await driver.poll_wf()
    assert following is not None, "the next task delivers the signal"
    assert following["history_events"][-1]["event_type"] == "SignalReceived"
    await driver.complete_wf(following, [complete("done after the signal")])
    assert (await driver.types("wf-1", started["run_id"]))[-1] == "WorkflowCompleted"
    (row,) = await signal_rows(driver.engine)
    assert row["status"] == "applied"


async def test_an_unseen_signal_moves_to_the_run_a_continue_as_new_starts(driver: Driver) -> None:
    first = await driver.start()
    leased = await driver.poll_wf()
    assert leased is not None
    sent = await driver.engine.signal_workflow(NS, signal(request_id="hand-over"))
    answer = await driver.complete_wf(leased, [{"type": "continue_as_new", "arguments": codec.envelope([])}])
    assert answer["reason"] is None
    described = await driver.engine.describe_workflow(NS, "wf-1")
    new_run_id = described["run_id"]
    assert new_run_id != first["run_id"]
    events = await driver.history("wf-1", new_run_id)
    carried = events[-1]
    assert carried["event_type"] == "SignalReceived"
    assert carried["payload"]["signal_id"] == sent["signal_id"]
    assert carried["payload"]["carried_from_run_id"] == first["run_id"]
    (row,) = await signal_rows(driver.engine)
    assert (row["run_id"], row["history_sequence"]) == (new_run_id, carried["sequence"])
    # A retry of that POST finds it in the new run and records nothing.
    again = await driver.engine.signal_workflow(NS, signal(request_id="hand-over"))
    assert again["command_id"] == sent["command_id"]
    assert len(await signal_rows(driver.engine)) == 1
    task = await driver.poll_wf()
    assert task is not None
    assert "SignalReceived" in [e["event_type"] for e in task["history_events"]]


async def test_a_request_id_is_per_run_so_a_reused_workflow_id_takes_its_signals(driver: Driver) -> None:
    await driver.start()
    old = await driver.engine.signal_workflow(NS, signal(request_id="same"))
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    second = await driver.start()  # D13: the id is free again once every run closed
    new = await driver.engine.signal_workflow(NS, signal(request_id="same"))
    assert new["run_id"] == second["run_id"] != old["run_id"]
    assert new["command_id"] != old["command_id"]
    assert "SignalReceived" in await driver.types("wf-1", second["run_id"])
