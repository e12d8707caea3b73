"""replay_history / replay_history_file / Replayer: inputs, inference, ValueErrors, endings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Replayer, ReplayOutcome, workflow
from durable_workflow.errors import NonDeterministicReplayError
from durable_workflow.testing import WorkflowEnvironment, replay_history, replay_history_file
from durable_workflow.workflow import CompleteWorkflow, ScheduleActivity


@workflow.defn(name="order")
class OrderWorkflow:
    def run(self, ctx, order_id):
        validated = yield ctx.schedule_activity("validate_order", [order_id])
        return (yield ctx.schedule_activity("process_payment", [validated]))


@workflow.defn(name="refund")
class RefundWorkflow:
    def run(self, ctx, order_id):
        return (yield ctx.schedule_activity("refund", [order_id]))


def order_history() -> list[dict[str, Any]]:
    env = WorkflowEnvironment()
    env.register_activity("validate_order", lambda order_id: f"valid:{order_id}")
    env.register_activity("process_payment", lambda validated: {"paid": validated})
    env.execute_workflow(OrderWorkflow, "order-42", run_id="run-42")
    return env.runs[0].history


def test_replay_history_returns_the_next_commands() -> None:
    history = order_history()
    assert replay_history(OrderWorkflow, history, ["order-42"]) == [
        CompleteWorkflow({"paid": "valid:order-42"})
    ]
    # A history cut short replays to the command the code emits next.
    cut = [e for e in history if e["event_type"] in ("WorkflowStarted", "ActivityScheduled")][:2]
    assert replay_history(OrderWorkflow, cut) == [ScheduleActivity("validate_order", ["order-42"])]


def test_replay_history_file_accepts_a_list_or_a_dict(tmp_path: Path) -> None:
    history = order_history()
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps(history))
    as_dict = tmp_path / "dict.json"
    as_dict.write_text(json.dumps({"workflow_id": "w", "run_id": "run-42", "events": history}))
    expected = [CompleteWorkflow({"paid": "valid:order-42"})]
    assert replay_history_file(OrderWorkflow, as_list) == expected
    assert replay_history_file(OrderWorkflow, str(as_dict), ["order-42"]) == expected


def test_export_bundle_shape_replays() -> None:
    # History exports use "type" instead of "event_type" and keep events under history_events.
    exported = [
        {**{k: v for k, v in e.items() if k != "event_type"}, "type": e["event_type"]}
        for e in order_history()
    ]
    bundle = {"schema": "durable-workflow.v2.history-export", "history_events": exported}
    outcome = Replayer(workflows=[OrderWorkflow]).replay(bundle)
    assert isinstance(outcome, ReplayOutcome)
    assert outcome.commands == [CompleteWorkflow({"paid": "valid:order-42"})]


def test_replayer_infers_type_and_input_and_checks_registration() -> None:
    replayer = Replayer(workflows=[OrderWorkflow, RefundWorkflow])
    history = order_history()
    assert replayer.replay(history).commands == [CompleteWorkflow({"paid": "valid:order-42"})]
    assert replayer.replay({"events": history}, ["order-42"], workflow_type="order").commands == [
        CompleteWorkflow({"paid": "valid:order-42"})
    ]
    with pytest.raises(ValueError, match="'refund'"):
        Replayer(workflows=[OrderWorkflow]).replay(history, workflow_type="refund")
    started_less = [e for e in history if e["event_type"] != "WorkflowStarted"]
    with pytest.raises(ValueError, match="workflow_type"):
        replayer.replay(started_less, ["order-42"])
    # One registered workflow needs no WorkflowStarted.
    only = Replayer(workflows=[OrderWorkflow]).replay(started_less, ["order-42"])
    assert only.commands == [CompleteWorkflow({"paid": "valid:order-42"})]


def test_replayer_rejects_empty_and_duplicate_registration() -> None:
    with pytest.raises(ValueError):
        Replayer(workflows=[])
    with pytest.raises(ValueError, match="twice"):
        Replayer(workflows=[OrderWorkflow, OrderWorkflow])


def test_history_of_unknown_shape_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        replay_history(OrderWorkflow, {"no": "events"})
    with pytest.raises(ValueError):
        replay_history(OrderWorkflow, "not a history")


def test_completed_run_that_now_schedules_more_is_non_deterministic() -> None:
    @workflow.defn(name="order")
    class LongerOrder:
        def run(self, ctx, order_id):
            validated = yield ctx.schedule_activity("validate_order", [order_id])
            receipt = yield ctx.schedule_activity("process_payment", [validated])
            yield ctx.schedule_activity("send_receipt", [receipt])  # NEW-STEP
            return receipt

    with pytest.raises(NonDeterministicReplayError) as info:
        replay_history(LongerOrder, order_history())
    message = str(info.value)
    assert "history recorded: WorkflowCompleted after 2 step(s)" in message
    assert "waits on schedule_activity 'send_receipt'" in message
    assert "NEW-STEP" in message  # the source line is quoted
    # the same facts, for programs
    error = info.value
    assert error.workflow_type == "order"
    assert error.step == 3
    assert error.recorded is not None and "WorkflowCompleted" in error.recorded
    assert error.yielded is not None and "send_receipt" in error.yielded
    assert error.location is not None and error.location.startswith(__file__)


def test_completed_run_that_now_fails_is_non_deterministic() -> None:
    @workflow.defn(name="order")
    class FailingOrder:
        def run(self, ctx, order_id):
            validated = yield ctx.schedule_activity("validate_order", [order_id])
            yield ctx.schedule_activity("process_payment", [validated])
            raise ValueError("refused")

    with pytest.raises(NonDeterministicReplayError, match=r"ends with fail_workflow \(ValueError: refused\)"):
        replay_history(FailingOrder, order_history())


def test_reordered_steps_name_everything_a_person_needs() -> None:
    @workflow.defn(name="order")
    class Reordered:
        def run(self, ctx, order_id):
            receipt = yield ctx.schedule_activity("process_payment", [order_id])  # REORDERED
            yield ctx.schedule_activity("validate_order", [order_id])
            return receipt

    with pytest.raises(NonDeterministicReplayError) as info:
        replay_history(Reordered, order_history())
    message = str(info.value)
    assert message.startswith("workflow 'order' (run run-42) is not deterministic at step #1:")
    assert "history recorded: ActivityScheduled 'validate_order' (sequence 2)" in message
    assert "the code now yields: schedule_activity 'process_payment'" in message
    assert f"{__file__}:" in message and "# REORDERED" in message
    assert "ctx.get_version" in message
