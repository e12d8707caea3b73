# ruff: noqa: E402  (the docs import next to the example that needs it; kept verbatim)
"""Every code example of the docs' "Testing" section, copied verbatim, runs as a test.

The examples below are the text of ``python-sdk-docs.txt`` ("Testing"): the imports, the
workflow classes and the test functions are unchanged. The two fragments that are not
complete programs (``env.signal(..., run=2)`` and the ``Replayer`` snippet) are executed as
text against the names they expect; see the tests at the end.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

# --- WorkflowEnvironment ----------------------------------------------------------------------
from durable_workflow import workflow
from durable_workflow.testing import WorkflowEnvironment


@workflow.defn(name="greeter")
class Greeter:
    def run(self, ctx, name: str):
        greeting = yield ctx.schedule_activity("greet", [name])
        return greeting


def test_greeter_returns_activity_result() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("greet", "hello, world")

    result = env.execute_workflow(Greeter, "world")

    assert result == "hello, world"


# --- Callable activity mocks ------------------------------------------------------------------


def test_callable_mock_captures_arguments() -> None:
    captured: list[str] = []

    def record_greet(name: str) -> str:
        captured.append(name)
        return f"greeted:{name}"

    env = WorkflowEnvironment()
    env.register_activity("greet", record_greet)

    assert env.execute_workflow(Greeter, "alice") == "greeted:alice"
    assert captured == ["alice"]


# --- Signals ----------------------------------------------------------------------------------


@workflow.defn(name="approval")
class Approval:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.signal("approve")
    def on_approve(self, by: str) -> None:
        self.approved_by = by

    def run(self, ctx):
        yield ctx.schedule_activity("wait", [])
        return {"approved_by": self.approved_by}


def test_signal_is_delivered_before_run_returns() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("wait", None)
    env.signal("approve", ["alice"])

    result = env.execute_workflow(Approval)

    assert result == {"approved_by": "alice"}


# --- Continue-as-new chains -------------------------------------------------------------------


@workflow.defn(name="countdown")
class Countdown:
    def run(self, ctx, counter: int):
        yield ctx.schedule_activity("emit", [counter])
        if counter > 0:
            return ctx.continue_as_new(counter - 1)
        return {"final_counter": counter}


def test_chain_returns_final_run_result() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("emit", None)

    result = env.execute_workflow(Countdown, 3)

    assert result == {"final_counter": 0}
    assert env.run_count == 4
    assert [r.input for r in env.runs] == [[3], [2], [1], [0]]


@workflow.defn(name="stage-one")
class StageOne:
    def run(self, ctx):
        yield ctx.schedule_activity("stage_one", [])
        return ctx.continue_as_new(workflow_type="stage-two")


@workflow.defn(name="stage-two")
class StageTwo:
    def run(self, ctx):
        return (yield ctx.schedule_activity("stage_two", []))


def test_chain_can_switch_workflow_type() -> None:
    env = WorkflowEnvironment()
    env.register_workflow(StageTwo)
    env.register_activity_result("stage_one", None)
    env.register_activity_result("stage_two", "done")

    assert env.execute_workflow(StageOne) == "done"
    assert [r.workflow_type for r in env.runs] == ["stage-one", "stage-two"]


# --- Failure assertions -----------------------------------------------------------------------

import pytest

from durable_workflow.errors import WorkflowFailed


@workflow.defn(name="failing")
class Failing:
    def run(self, ctx):
        yield ctx.schedule_activity("step", [])
        raise RuntimeError("boom")


def test_workflow_failure_surfaces_as_workflow_failed() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("step", None)

    with pytest.raises(WorkflowFailed) as exc_info:
        env.execute_workflow(Failing)

    assert "boom" in str(exc_info.value)


# --- Fragments, run as text -------------------------------------------------------------------

SIGNAL_RUN_2 = """\
env.signal("approve", ["alice"], run=2)  # delivered to the second run
"""

REPLAY_HISTORY_FILE = """\
from durable_workflow.testing import replay_history_file

replay_history_file(
    OrderWorkflow,
    "tests/histories/order-42.json",
    start_input=["order-42"],
)
"""

CLASS_BASED_REPLAYER = """\
from durable_workflow import Replayer, ReplayOutcome

replayer = Replayer(workflows=[OrderWorkflow, RefundWorkflow])

# Explicit type and input — equivalent to replay_history(OrderWorkflow, ...).
outcome: ReplayOutcome = replayer.replay(
    history["events"],
    start_input=["order-42"],
    workflow_type="order",
)

# Type and start input inferred from a WorkflowStarted event in the history.
outcome = replayer.replay(history)  # history may be an events list or a
                                    # dict with an "events" key

for command in outcome.commands:
    # Inspect commands the replayed workflow would have emitted next.
    ...
"""


@workflow.defn(name="order")
class OrderWorkflow:
    def run(self, ctx, order_id: str):
        validated = yield ctx.schedule_activity("validate_order", [order_id])
        yield ctx.start_timer(seconds=60)
        return (yield ctx.schedule_activity("process_payment", [validated]))


@workflow.defn(name="refund")
class RefundWorkflow:
    def run(self, ctx, order_id: str):
        return (yield ctx.schedule_activity("refund", [order_id]))


def _order_history() -> dict[str, Any]:
    env = WorkflowEnvironment()
    env.register_activity("validate_order", lambda order_id: {"order": order_id, "valid": True})
    env.register_activity_result("process_payment", {"receipt": "r-1"})
    assert env.execute_workflow(OrderWorkflow, "order-42") == {"receipt": "r-1"}
    return {"events": env.runs[0].history}


@workflow.defn(name="signalled-countdown")
class SignalledCountdown:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.signal("approve")
    def on_approve(self, by: str) -> None:
        self.approved_by = by

    def run(self, ctx, counter: int):
        yield ctx.schedule_activity("emit", [counter])
        if counter > 0:
            return ctx.continue_as_new(counter - 1)
        return self.approved_by


def test_signal_targets_a_run_of_the_chain() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("emit", None)
    exec(SIGNAL_RUN_2, {"env": env})

    env.execute_workflow(SignalledCountdown, 2)

    signalled = [
        i + 1
        for i, run in enumerate(env.runs)
        if any(e["event_type"] == "SignalReceived" for e in run.history)
    ]
    assert signalled == [2]


def test_replay_history_file_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    (tmp_path / "tests" / "histories").mkdir(parents=True)
    (tmp_path / "tests" / "histories" / "order-42.json").write_text(json.dumps(_order_history()))
    monkeypatch.chdir(tmp_path)
    exec(REPLAY_HISTORY_FILE, {"OrderWorkflow": OrderWorkflow})


def test_class_based_replayer_example() -> None:
    from durable_workflow.workflow import CompleteWorkflow

    namespace: dict[str, Any] = {
        "OrderWorkflow": OrderWorkflow,
        "RefundWorkflow": RefundWorkflow,
        "history": _order_history(),
    }
    exec(textwrap.dedent(CLASS_BASED_REPLAYER), namespace)
    assert namespace["outcome"].commands == [CompleteWorkflow({"receipt": "r-1"})]
