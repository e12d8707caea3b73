"""Engine: condition waits, updates, queries, child failures, and reference-server quirks."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from durable_workflow import workflow
from durable_workflow.errors import ChildWorkflowCancelled, ChildWorkflowFailed, NonDeterministicReplayError
from durable_workflow.protocol import codec
from durable_workflow.workflow import (
    CompleteUpdate,
    CompleteWorkflow,
    FailUpdate,
    FailWorkflow,
    ScheduleActivity,
    WaitCondition,
)
from durable_workflow.workflow._query import UnknownQuery, query_workflow
from durable_workflow.workflow._replay import replay
from tests.sdk.workflow.wf_history_builders import HistoryBuilder


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
        return {"limit": limit}

    @set_limit.validator
    def validate(self, limit: int) -> bool:
        return isinstance(limit, int) and limit >= 1

    @workflow.query("status")
    def status(self) -> dict:
        return {"approvals": self.approvals, "limit": self.limit}

    def run(self, ctx):
        ok = yield ctx.wait_condition(lambda: len(self.approvals) >= self.limit, key="enough", timeout=60)
        return {"ok": ok, "approvals": self.approvals}


def opened(h: HistoryBuilder, key: str | None = "enough", *, timer: bool = True, wait_id: bool = True) -> int:
    seq = len(h.events) + 1
    payload: dict[str, Any] = {"sequence": seq, "condition_key": key, "timeout_seconds": 60}
    if wait_id:
        payload["condition_wait_id"] = f"w{seq}"
    h.add("ConditionWaitOpened", payload)
    if timer:
        h.add("TimerScheduled", {**payload, "timer_kind": "condition_timeout", "timer_id": f"t{seq}"})
    return seq


def test_first_replay_opens_the_wait() -> None:
    h = HistoryBuilder()
    outcome = replay(Gate, h.events, None)
    (command,) = outcome.commands
    assert isinstance(command, WaitCondition)
    assert command.to_wire() == {
        "type": "open_condition_wait",
        "condition_key": "enough",
        "condition_definition_fingerprint": command.fingerprint,
        "timeout_seconds": 60,
    }
    assert command.fingerprint.startswith("sha256:")


def test_signal_that_does_not_satisfy_re_sends_the_wait() -> None:
    h = HistoryBuilder()
    opened(h)
    h.signal("approve", ["alice"])
    outcome = replay(Gate, h.events, None)
    assert outcome.resent and [type(c) for c in outcome.commands] == [WaitCondition]
    assert outcome.workflow_instance.approvals == ["alice"]


def test_signal_that_satisfies_lets_the_code_continue() -> None:
    h = HistoryBuilder()
    seq = opened(h)
    h.signal("approve", ["alice"])
    h.signal("approve", ["bob"])
    expected = [CompleteWorkflow({"ok": True, "approvals": ["alice", "bob"]})]
    assert replay(Gate, h.events, None).commands == expected
    # The server then records the wait as satisfied; the replay agrees.
    h.add("ConditionWaitSatisfied", {"sequence": seq, "condition_wait_id": f"w{seq}"})
    h.add(
        "TimerCancelled", {"sequence": seq, "condition_wait_id": f"w{seq}", "timer_kind": "condition_timeout"}
    )
    assert replay(Gate, h.events, None).commands == expected


def test_timeout_timer_resolves_the_wait_as_false() -> None:
    h = HistoryBuilder()
    seq = opened(h)
    h.signal("approve", ["alice"])
    h.add("TimerFired", {"sequence": seq, "condition_wait_id": f"w{seq}", "timer_kind": "condition_timeout"})
    assert replay(Gate, h.events, None).commands == [CompleteWorkflow({"ok": False, "approvals": ["alice"]})]


def test_untagged_condition_timer_is_recognised_by_its_sequence() -> None:
    # A condition wait's timeout timer as older servers record it: the timer carries no kind
    # and no wait id, only the wait's sequence (the reference SDK fails to match it).
    h = HistoryBuilder()
    seq = len(h.events) + 1
    h.add("ConditionWaitOpened", {"sequence": seq, "condition_key": "enough", "timeout_seconds": 60})
    h.add("TimerScheduled", {"sequence": seq, "delay_seconds": 60})
    h.add("TimerFired", {"sequence": seq})
    assert replay(Gate, h.events, None).commands == [CompleteWorkflow({"ok": False, "approvals": []})]


def test_minimal_fixture_shape_without_ids_or_sequences() -> None:
    events = [
        {"event_type": "WorkflowStarted", "payload": {}},
        {"event_type": "ConditionWaitOpened", "payload": {"condition_key": "enough"}},
        {"event_type": "TimerScheduled", "payload": {"timer_kind": "condition_timeout"}},
        {"event_type": "SignalReceived", "payload": {"signal_name": "approve", "arguments": '["alice"]'}},
        {"event_type": "TimerFired", "payload": {"timer_kind": "condition_timeout"}},
    ]
    outcome = replay(Gate, events, None, payload_codec=None)
    assert outcome.commands == [CompleteWorkflow({"ok": False, "approvals": ["alice"]})]


def test_reference_re_opened_waits_are_followed() -> None:
    # 0.4.84 re-sends the wait on every wake-up and the reference server records a new open.
    h = HistoryBuilder()
    opened(h, wait_id=False, timer=False)
    h.signal("approve", ["alice"])
    second = opened(h, wait_id=False, timer=False)
    h.signal("approve", ["bob"])
    h.add("ConditionWaitSatisfied", {"condition_key": "enough"})
    assert second > 3
    assert replay(Gate, h.events, None).commands == [
        CompleteWorkflow({"ok": True, "approvals": ["alice", "bob"]})
    ]


def test_changed_condition_key_is_non_deterministic() -> None:
    h = HistoryBuilder()
    opened(h, key="approved")
    with pytest.raises(NonDeterministicReplayError) as info:
        replay(Gate, h.events, None, run_id="r-7")
    message = str(info.value)
    assert "ConditionWaitOpened 'approved'" in message
    assert "open_condition_wait 'enough'" in message
    assert "step #1" in message and "'gate'" in message and "r-7" in message


def test_history_past_a_wait_the_code_now_blocks_on() -> None:
    @workflow.defn(name="strict-gate")
    class StrictGate(Gate):
        def run(self, ctx):
            yield ctx.wait_condition(lambda: len(self.approvals) >= 5, key="many")  # BLOCKS-HERE
            return (yield ctx.schedule_activity("go", []))

    h = HistoryBuilder()
    h.signal("approve", ["alice"])
    h.apply([ScheduleActivity("go")])
    with pytest.raises(NonDeterministicReplayError) as info:
        replay(StrictGate, h.events, None)
    message = str(info.value)
    assert "ActivityScheduled 'go'" in message
    assert "the code now waits on: open_condition_wait 'many'" in message
    lines, start = inspect.getsourcelines(StrictGate.run)
    line = start + next(i for i, text in enumerate(lines) if "BLOCKS-HERE" in text)
    assert f"{__file__}:{line}" in message


def test_predicate_errors_are_thrown_into_the_code() -> None:
    @workflow.defn(name="fragile")
    class Fragile:
        def run(self, ctx):
            try:
                yield ctx.wait_condition(lambda: 1 / 0)
            except ZeroDivisionError:
                pass
            yield ctx.wait_condition(lambda: {}["missing"])
            return "unreachable"

    outcome = replay(Fragile, [], None)
    assert outcome.commands == [FailWorkflow("'missing'", "KeyError")]


def test_wait_condition_in_a_list_is_a_type_error() -> None:
    @workflow.defn(name="listy")
    def listy(ctx):
        yield [ctx.wait_condition(lambda: True)]

    assert replay(listy, [], None).commands[0].exception_type == "TypeError"


# ------------------------------------------------------------------ updates and queries


def accepted(h: HistoryBuilder, update_id: str, name: str, args: list[Any]) -> None:
    h.add(
        "UpdateAccepted",
        {
            "update_id": update_id,
            "update_name": name,
            "arguments": codec.encode(args),
            "payload_codec": "avro",
        },
    )


def test_update_task_answers_with_one_command() -> None:
    h = HistoryBuilder()
    opened(h)
    accepted(h, "u1", "set_limit", [1])
    accepted(h, "u2", "set_limit", [0])
    accepted(h, "u3", "no_such_update", [])
    assert replay(Gate, h.events, None, update_id="u1").commands == [CompleteUpdate("u1", {"limit": 1})]
    assert replay(Gate, h.events, None, update_id="u2").commands == [
        FailUpdate("u2", "update 'set_limit' rejected by its validator", "UpdateRejected")
    ]
    (unknown,) = replay(Gate, h.events, None, update_id="u3").commands
    assert isinstance(unknown, FailUpdate) and unknown.exception_type == "UnknownUpdate"
    (missing,) = replay(Gate, h.events, None, update_id="u9").commands
    assert isinstance(missing, FailUpdate) and missing.exception_type == "UpdateNotFound"
    assert CompleteUpdate("u1", 5).to_wire() == {
        "type": "complete_update",
        "update_id": "u1",
        "result": codec.envelope(5),
    }
    assert missing.to_wire()["type"] == "fail_update" and missing.to_wire()["non_retryable"] is True


def test_applied_updates_are_replayed_into_state() -> None:
    h = HistoryBuilder()
    opened(h)
    h.signal("approve", ["alice"])
    h.add(
        "UpdateApplied",
        {"update_id": "u1", "update_name": "set_limit", "arguments": codec.encode([1]), "sequence": 6},
    )
    assert replay(Gate, h.events, None).commands == [CompleteWorkflow({"ok": True, "approvals": ["alice"]})]
    assert query_workflow(Gate, h.events, None, "status") == {"approvals": ["alice"], "limit": 1}


def test_applied_update_without_a_handler_is_non_deterministic() -> None:
    @workflow.defn(name="gate")
    class GateWithoutUpdate:
        def run(self, ctx):
            yield ctx.wait_condition(lambda: False, key="enough")

    h = HistoryBuilder()
    opened(h)
    h.add("UpdateApplied", {"update_name": "set_limit", "arguments": codec.encode([1])})
    with pytest.raises(NonDeterministicReplayError, match="set_limit"):
        replay(GateWithoutUpdate, h.events, None)


def test_unknown_query() -> None:
    with pytest.raises(UnknownQuery, match="'nope'"):
        query_workflow(Gate, [], None, "nope")


# ------------------------------------------------------------------ children, reference quirks


def test_child_failures_are_thrown_into_the_parent() -> None:
    @workflow.defn(name="parent")
    class Parent:
        def run(self, ctx):
            out = []
            for kind in ("child-a", "child-b"):
                try:
                    yield ctx.start_child_workflow(kind, [])
                except ChildWorkflowFailed as exc:
                    out.append([type(exc).__name__, exc.workflow_type, exc.message])
            return out

    h = HistoryBuilder()
    (a,) = h.apply(replay(Parent, h.events, None).commands)
    h.add("ChildRunFailed", {"sequence": a, "message": "child broke", "exception_type": "ValueError"})
    (b,) = h.apply(replay(Parent, h.events, None).commands)
    h.add("ChildRunCancelled", {"sequence": b, "message": "Workflow cancelled."})
    assert replay(Parent, h.events, None).commands == [
        CompleteWorkflow(
            [
                ["ChildWorkflowFailed", "child-a", "child broke"],
                [ChildWorkflowCancelled.__name__, "child-b", "Workflow cancelled."],
            ]
        )
    ]


@workflow.defn(name="two-steps")
class TwoSteps:
    def run(self, ctx):
        first = yield [ctx.schedule_activity("a", []), ctx.schedule_activity("b", [])]
        return (yield ctx.schedule_activity("c", [first]))


def test_reference_re_emitted_steps_are_the_same_steps() -> None:
    # SDK 0.4.84 re-sends open steps on each wake-up and the reference server records them
    # again under new sequences; either execution's result answers the step.
    h = HistoryBuilder()
    a, b = h.apply(replay(TwoSteps, h.events, None).commands)
    h.complete_activity(b, "B")
    a2, b2 = h.apply([ScheduleActivity("a"), ScheduleActivity("b")])  # the re-send
    h.open_steps.pop(b2)
    h.add(
        "ActivityCompleted",
        {"sequence": a2, "activity_type": "a", "result": codec.encode("A"), "payload_codec": "avro"},
    )
    h.open_steps.pop(a2)
    outcome = replay(TwoSteps, h.events, None)
    assert outcome.commands == [ScheduleActivity("c", [["A", "B"]])]
    h.complete_activity(a, "late duplicate")  # the first execution finishing later changes nothing
    assert replay(TwoSteps, h.events, None).commands == [ScheduleActivity("c", [["A", "B"]])]


def test_wait_that_held_at_once_records_nothing_and_the_next_wait_keeps_its_step() -> None:
    @workflow.defn(name="two-waits")
    class TwoWaits:
        def run(self, ctx):
            first = yield ctx.wait_condition(lambda: True, key="w0")
            second = yield ctx.wait_condition(lambda: False, key="w1", timeout=5)
            return [first, second]

    h = HistoryBuilder()
    (command,) = replay(TwoWaits, h.events, None).commands
    assert isinstance(command, WaitCondition) and command.condition_key == "w1"
    seq = opened(h, key="w1")
    h.add("TimerFired", {"sequence": seq, "condition_wait_id": f"w{seq}", "timer_kind": "condition_timeout"})
    assert replay(TwoWaits, h.events, None).commands == [CompleteWorkflow([True, False])]


def test_a_re_sent_wait_names_the_open_wait() -> None:
    h = HistoryBuilder()
    seq = opened(h)
    h.signal("approve", ["alice"])
    outcome = replay(Gate, h.events, None)
    (command,) = outcome.commands
    assert isinstance(command, WaitCondition)
    assert command.to_wire()["condition_wait_id"] == f"w{seq}"


@workflow.defn(name="two_gates")
class TwoGates:
    """Two back-to-back waits with the same key and predicate (each needs one more signal)."""

    def __init__(self) -> None:
        self.count = 0

    @workflow.signal("tick")
    def tick(self) -> None:
        self.count += 1

    def run(self, ctx):
        passed: list[Any] = []
        for needed in (1, 2):
            # The predicate runs only while this iteration waits, so the loop variable is the right one.
            passed.append((yield ctx.wait_condition(lambda: self.count >= needed, key="gate", timeout=60)))  # noqa: B023
        return {"passed": passed, "count": self.count}


def test_back_to_back_same_key_waits_replay_to_their_own_waits() -> None:
    # The history our server records for TwoGates: wait 1 opened, a signal, then (in the task
    # that signal woke) wait 1 satisfied and wait 2 opened as a new wait, then wait 2 times out.
    h = HistoryBuilder()
    first = replay(TwoGates, h.events, None).commands
    assert [type(c) for c in first] == [WaitCondition] and "condition_wait_id" not in first[0].to_wire()
    one = opened(h, "gate")
    h.signal("tick", [])
    (second,) = replay(TwoGates, h.events, None).commands
    assert isinstance(second, WaitCondition)
    # Wait 1 passed; wait 2 is a new wait, so it names no open wait.
    assert "condition_wait_id" not in second.to_wire()
    h.add(
        "ConditionWaitSatisfied", {"sequence": one, "condition_wait_id": f"w{one}", "condition_key": "gate"}
    )
    h.add(
        "TimerCancelled", {"sequence": one, "condition_wait_id": f"w{one}", "timer_kind": "condition_timeout"}
    )
    two = opened(h, "gate")
    # Still blocked on wait 2: the re-send names wait 2, never wait 1.
    (resent,) = replay(TwoGates, h.events, None).commands
    assert resent.to_wire()["condition_wait_id"] == f"w{two}"
    h.add("TimerFired", {"sequence": two, "condition_wait_id": f"w{two}", "timer_kind": "condition_timeout"})
    h.add("ConditionWaitTimedOut", {"sequence": two, "condition_wait_id": f"w{two}", "condition_key": "gate"})
    # Both time-out events name wait 2: it resolves once, as False, and wait 1 stays True.
    assert replay(TwoGates, h.events, None).commands == [
        CompleteWorkflow({"passed": [True, False], "count": 1})
    ]
