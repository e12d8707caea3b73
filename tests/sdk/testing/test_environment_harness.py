"""WorkflowEnvironment beyond the docs' examples: every table row and failure mode."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from durable_workflow import workflow
from durable_workflow.errors import ActivityFailed, ChildWorkflowFailed, UpdateRejected, WorkflowFailed
from durable_workflow.testing import WorkflowEnvironment, replay_history
from durable_workflow.workflow import CompleteWorkflow, ContinueAsNew, FailWorkflow

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=timezone.utc)


@workflow.defn(name="everything")
class Everything:
    def run(self, ctx, name):
        version = yield ctx.get_version("greeting-format", 1, 2)
        token = yield ctx.side_effect(lambda: "tok-1")
        yield ctx.upsert_search_attributes({"Customer": name, "Stage": "greeting"})
        started = ctx.now()
        yield ctx.sleep(90)
        slept = (ctx.now() - started).total_seconds()
        greeting = yield ctx.schedule_activity("greet", [name])
        child = yield ctx.start_child_workflow("child-type", [name])
        fan = yield [ctx.schedule_activity("greet", [n]) for n in ("a", "b")]
        yield ctx.upsert_search_attributes({"Stage": None})
        return {
            "version": version,
            "token": token,
            "slept": slept,
            "greeting": greeting,
            "child": child,
            "fan": fan,
            "uuid": str(ctx.uuid4()),
        }


def make_env() -> WorkflowEnvironment:
    env = WorkflowEnvironment(start_time=T0)
    env.register_activity("greet", lambda n: f"hi {n}")
    env.register_child_workflow_result("child-type", {"child": True})
    return env


def test_every_context_operation_is_auto_fired_and_recorded() -> None:
    env = make_env()
    result = env.execute_workflow(Everything, "ada")
    assert result["version"] == 2
    assert result["token"] == "tok-1"
    assert result["slept"] == 90.0  # the logical clock moved by exactly the timer
    assert result["greeting"] == "hi ada"
    assert result["child"] == {"child": True}
    assert result["fan"] == ["hi a", "hi b"]
    (run,) = env.runs
    assert run.search_attributes == {"Customer": "ada"}
    assert isinstance(run.terminal, CompleteWorkflow)
    types = [e["event_type"] for e in run.history]
    assert types[0] == "WorkflowStarted" and types[-1] == "WorkflowCompleted"
    for expected in (
        "VersionMarkerRecorded",
        "SideEffectRecorded",
        "SearchAttributesUpserted",
        "TimerScheduled",
        "TimerFired",
        "ActivityScheduled",
        "ActivityCompleted",
        "ChildWorkflowScheduled",
        "ChildRunCompleted",
    ):
        assert expected in types
    # Every step carries a workflow sequence, as on a real server.
    steps = [e for e in run.history if e["event_type"].endswith("Scheduled")]
    assert all(isinstance(e["payload"]["sequence"], int) for e in steps)


def test_run_history_replays_to_the_same_result_and_values() -> None:
    env = make_env()
    result = env.execute_workflow(Everything, "ada")
    run = env.runs[0]
    assert replay_history(Everything, run.history) == [CompleteWorkflow(result)]
    # Deterministic helpers give the same values on every execution of the same run id.
    again = make_env().execute_workflow(Everything, "ada")
    assert again["uuid"] == result["uuid"]
    other = make_env().execute_workflow(Everything, "ada", run_id="another-run")
    assert other["uuid"] != result["uuid"]


def test_missing_activity_mock_raises_key_error() -> None:
    env = WorkflowEnvironment()
    with pytest.raises(KeyError, match="greet"):
        env.execute_workflow(Everything, "ada")


def test_missing_child_mock_raises_key_error() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("greet", "x")
    with pytest.raises(KeyError, match="child-type"):
        env.execute_workflow(Everything, "ada")


def test_callable_mock_takes_precedence_over_result() -> None:
    env = make_env()
    env.register_activity_result("greet", "canned")
    assert env.execute_workflow(Everything, "ada")["greeting"] == "hi ada"


@workflow.defn(name="careful")
class Careful:
    def run(self, ctx):
        caught = []
        try:
            yield ctx.schedule_activity("charge", [10])
        except ActivityFailed as exc:
            caught.append([exc.activity_type, exc.exception_type, exc.message])
        try:
            yield ctx.start_child_workflow("child-type", [])
        except ChildWorkflowFailed as exc:
            caught.append([exc.workflow_type, exc.exception_type, exc.message])
        return caught


def test_mock_failures_are_thrown_into_the_workflow() -> None:
    env = WorkflowEnvironment()

    def charge(amount: int) -> None:
        raise ValueError(f"card declined for {amount}")

    env.register_activity("charge", charge)
    env.register_child_workflow_result("child-type", RuntimeError("child broke"))
    assert env.execute_workflow(Careful) == [
        ["charge", "ValueError", "card declined for 10"],
        ["child-type", "RuntimeError", "child broke"],
    ]
    assert replay_history(Careful, env.runs[0].history)[0] == CompleteWorkflow(env.execute_workflow(Careful))


def test_exception_instance_as_registered_result_fails_the_activity() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("charge", ValueError("nope"))
    env.register_child_workflow_result("child-type", None)
    assert env.execute_workflow(Careful) == [["charge", "ValueError", "nope"]]


@workflow.defn(name="forever")
class Forever:
    def run(self, ctx):
        while True:
            yield ctx.sleep(1)


def test_iteration_limit() -> None:
    env = WorkflowEnvironment(iteration_limit=5)
    with pytest.raises(RuntimeError, match="iteration_limit=5"):
        env.execute_workflow(Forever)


@workflow.defn(name="loop")
class Loop:
    def run(self, ctx, n=0):
        yield ctx.sleep(1)
        return ctx.continue_as_new(n + 1)


def test_continue_as_new_limit() -> None:
    env = WorkflowEnvironment(continue_as_new_limit=3)
    with pytest.raises(RuntimeError, match="continue_as_new_limit=3"):
        env.execute_workflow(Loop)
    assert env.run_count == 4
    assert [r.input for r in env.runs] == [[], [1], [2], [3]]
    assert all(isinstance(r.terminal, ContinueAsNew) for r in env.runs)
    assert env.runs[0].history[-1]["event_type"] == "WorkflowContinuedAsNew"
    assert env.runs[1].run_id == "test-run-continued"


def test_continue_as_new_to_unregistered_type_is_key_error() -> None:
    @workflow.defn(name="hop")
    def hop(ctx):
        return ctx.continue_as_new(workflow_type="nowhere")

    with pytest.raises(KeyError, match="nowhere"):
        WorkflowEnvironment().execute_workflow(hop)


def test_failure_carries_message_and_type() -> None:
    @workflow.defn(name="bad")
    def bad(ctx):
        raise LookupError("missing thing")

    env = WorkflowEnvironment()
    with pytest.raises(WorkflowFailed) as info:
        env.execute_workflow(bad)
    assert info.value.message == "missing thing"
    assert info.value.exception_type == "LookupError"
    assert isinstance(env.runs[0].terminal, FailWorkflow)
    assert env.runs[0].history[-1]["event_type"] == "WorkflowFailed"


# ------------------------------------------------------------------ signals, waits, updates, queries


@workflow.defn(name="gate")
class Gate:
    def __init__(self) -> None:
        self.approvals: list[str] = []
        self.limit = 2

    @workflow.signal("approve")
    def approve(self, by: str) -> None:
        self.approvals.append(by)

    @workflow.update("set_limit")
    def set_limit(self, limit: int) -> dict:
        self.limit = limit
        return {"limit": self.limit}

    @set_limit.validator
    def validate_set_limit(self, limit: int) -> None:
        if not isinstance(limit, int) or limit < 1:
            raise ValueError("limit must be a positive integer")

    @workflow.query("status")
    def status(self) -> dict:
        return {"approvals": list(self.approvals), "limit": self.limit}

    def run(self, ctx, timeout=None):
        ok = yield ctx.wait_condition(
            lambda: len(self.approvals) >= self.limit, key="approvals", timeout=timeout
        )
        return {"ok": ok, "approvals": self.approvals, "at": ctx.now().isoformat()}


def test_wait_condition_satisfied_by_queued_signals() -> None:
    env = WorkflowEnvironment(start_time=T0)
    env.signal("approve", ["alice"])
    env.signal("approve", ["bob"])
    assert env.execute_workflow(Gate)["approvals"] == ["alice", "bob"]
    # Satisfied before the code got there: history records no wait at all.
    assert not any(e["event_type"] == "ConditionWaitOpened" for e in env.runs[0].history)


@workflow.defn(name="gate-with-work")
class GateWithWork(Gate):
    def run(self, ctx, timeout=None):
        yield ctx.schedule_activity("notify", [])
        ok = yield ctx.wait_condition(
            lambda: len(self.approvals) >= self.limit, key="approvals", timeout=timeout
        )
        return {"ok": ok, "approvals": self.approvals, "at": ctx.now().isoformat()}


def test_signals_sent_while_running_satisfy_an_open_wait() -> None:
    env = WorkflowEnvironment(start_time=T0)
    env.register_activity("notify", lambda: env.signal("approve", ["carol"]))
    env.signal("approve", ["alice"])
    result = env.execute_workflow(GateWithWork)
    assert result["approvals"] == ["alice", "carol"]
    types = [e["event_type"] for e in env.runs[0].history]
    assert "ConditionWaitOpened" not in types  # carol's signal arrived with the activity result


def test_wait_opens_then_times_out_on_the_logical_clock() -> None:
    env = WorkflowEnvironment(start_time=T0)
    env.signal("approve", ["alice"])
    result = env.execute_workflow(Gate, 30)
    assert result["ok"] is False and result["approvals"] == ["alice"]
    assert result["at"] == (T0 + timedelta(seconds=30)).isoformat()
    history = env.runs[0].history
    types = [e["event_type"] for e in history]
    assert "ConditionWaitOpened" in types and "TimerFired" in types
    assert replay_history(Gate, history) == [CompleteWorkflow(result)]


def test_wait_nothing_can_satisfy_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="'approvals'"):
        WorkflowEnvironment().execute_workflow(Gate)


def test_update_with_validator_and_query() -> None:
    env = WorkflowEnvironment()
    bad = env.update("set_limit", [0])
    good = env.update("set_limit", [1])
    env.signal("approve", ["alice"])
    result = env.execute_workflow(Gate)
    assert result["approvals"] == ["alice"]
    assert env.update_result(good) == {"limit": 1}
    with pytest.raises(UpdateRejected, match="positive integer"):
        env.update_result(bad)
    assert env.query("status") == {"approvals": ["alice"], "limit": 1}
    history = env.runs[0].history
    assert [e["event_type"] for e in history].count("UpdateApplied") == 1
    # The applied update is re-run on replay, so the replayed state matches.
    assert replay_history(Gate, history) == [CompleteWorkflow(result)]


def test_update_opening_the_gate_while_the_wait_is_open() -> None:
    env = WorkflowEnvironment()
    env.signal("approve", ["alice"])
    # The first activity's mock queues an update that lowers the limit.
    updates: list[str] = []
    env.register_activity("notify", lambda: updates.append(env.update("set_limit", [1])))
    result = env.execute_workflow(GateWithWork, 60)
    assert result["ok"] is True
    assert env.update_result(updates[0]) == {"limit": 1}


def test_unknown_update_is_rejected() -> None:
    env = WorkflowEnvironment()
    unknown = env.update("nope", [])
    env.signal("approve", ["a"])
    env.signal("approve", ["b"])
    env.execute_workflow(Gate)
    with pytest.raises(UpdateRejected, match="no update handler 'nope'"):
        env.update_result(unknown)


def test_logger_is_silent_while_replaying(caplog: pytest.LogCaptureFixture) -> None:
    @workflow.defn(name="chatty")
    class Chatty:
        def run(self, ctx):
            ctx.logger.info("one")
            yield ctx.schedule_activity("a", [])
            ctx.logger.info("two")
            yield ctx.schedule_activity("a", [])
            ctx.logger.info("three")
            return None

    caplog.set_level(logging.INFO, logger="durable_workflow.workflow.replay")
    env = WorkflowEnvironment()
    env.register_activity_result("a", None)
    env.execute_workflow(Chatty)
    # The harness replays the run three times; each line is logged once.
    assert [r.getMessage() for r in caplog.records] == ["one", "two", "three"]


def test_queries_need_a_run() -> None:
    with pytest.raises(RuntimeError):
        WorkflowEnvironment().query("status")
