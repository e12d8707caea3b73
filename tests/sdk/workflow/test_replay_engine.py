"""The pure replay engine: matching, determinism, fan-out order, clock, logging."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from durable_workflow import workflow
from durable_workflow.errors import ActivityFailed, NonDeterministicReplayError, PayloadError
from durable_workflow.protocol import codec
from durable_workflow.workflow import (
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordSideEffect,
    ScheduleActivity,
    StartTimer,
)
from durable_workflow.workflow._commands import commands_to_wire
from durable_workflow.workflow._receivers import UnhandledSignal
from durable_workflow.workflow._replay import replay
from tests.sdk.workflow.wf_history_builders import HistoryBuilder


@workflow.defn(name="greeter")
class Greeter:
    def run(self, ctx, *args):
        result = yield ctx.schedule_activity("greet", list(args))
        return result


@workflow.defn(name="timer-then-activity")
class TimerThenActivity:
    def run(self, ctx, name):
        yield ctx.sleep(1.2)
        return (yield ctx.schedule_activity("greet", [name]))


@workflow.defn(name="fan-out")
class FanOut:
    def run(self, ctx, items):
        results = yield [ctx.schedule_activity(f"process_{i}", [item]) for i, item in enumerate(items)]
        return results


# ------------------------------------------------------------------ single activity


def test_fresh_run_schedules_the_activity():
    h = HistoryBuilder()
    outcome = replay(Greeter, h.events, ["world"], run_id="r1")
    assert outcome.commands == [ScheduleActivity("greet", ["world"])]
    assert commands_to_wire(outcome.commands) == [
        {
            "type": "schedule_activity",
            "activity_type": "greet",
            "arguments": {"codec": "avro", "blob": "ABJbIndvcmxkIl0C"},
        }
    ]


def test_completed_activity_completes_the_workflow():
    h = HistoryBuilder()
    (seq,) = h.apply(replay(Greeter, h.events, ["world"]).commands)
    assert seq == 3  # sequences are not positional: StartAccepted=1, WorkflowStarted=2
    h.complete_activity(seq, {"greeting": "Hello, world!"})
    outcome = replay(Greeter, h.events, ["world"])
    assert outcome.commands == [CompleteWorkflow({"greeting": "Hello, world!"})]
    assert outcome.terminal == CompleteWorkflow({"greeting": "Hello, world!"})
    wire = commands_to_wire(outcome.commands)[0]
    assert wire["type"] == "complete_workflow"
    assert codec.decode_envelope(wire["result"]) == {"greeting": "Hello, world!"}


def test_pending_activity_is_re_emitted_exactly_once():
    @workflow.defn(name="greeter_with_signal")
    class GreeterWithSignal:
        @workflow.signal("poke")
        def poke(self) -> None:
            pass

        def run(self, ctx, name):
            yield ctx.schedule_activity("greet", [name])

    h = HistoryBuilder()
    h.apply(replay(GreeterWithSignal, h.events, ["world"]).commands)
    h.signal("poke", [])  # a wake-up with nothing new to do
    outcome = replay(GreeterWithSignal, h.events, ["world"])
    assert outcome.commands == [ScheduleActivity("greet", ["world"])]


def test_plain_function_workflow():
    @workflow.defn(name="fn")
    def fn_workflow(ctx, a, b):
        return a + b

    assert replay(fn_workflow, [], [2, 3]).commands == [CompleteWorkflow(5)]


def test_scalar_start_input_is_one_argument():
    @workflow.defn(name="echo")
    def echo(ctx, value):
        return value

    assert replay(echo, [], "x").commands == [CompleteWorkflow("x")]


# ------------------------------------------------------------------ timers, side effects


def test_timer_rounds_up_and_resumes():
    h = HistoryBuilder()
    outcome = replay(TimerThenActivity, h.events, ["Ada"])
    assert outcome.commands == [StartTimer(2)]
    assert commands_to_wire(outcome.commands) == [{"type": "start_timer", "delay_seconds": 2}]
    (seq,) = h.apply(outcome.commands)
    h.fire_timer(seq)
    outcome = replay(TimerThenActivity, h.events, ["Ada"])
    assert outcome.commands == [ScheduleActivity("greet", ["Ada"])]


def test_side_effect_runs_once_and_replays_the_recorded_value():
    calls: list[int] = []

    @workflow.defn(name="side")
    class Side:
        def run(self, ctx):
            value = yield ctx.side_effect(lambda: calls.append(1) or 41)
            doubled = yield ctx.schedule_activity("double", [value])
            return doubled

    h = HistoryBuilder()
    outcome = replay(Side, h.events, None)
    assert [type(c) for c in outcome.commands] == [RecordSideEffect, ScheduleActivity]
    assert outcome.commands[1] == ScheduleActivity("double", [41])
    assert commands_to_wire(outcome.commands)[0] == {
        "type": "record_side_effect",
        "result": codec.envelope(41),
    }
    assert calls == [1]
    _, act = h.apply(outcome.commands)
    h.complete_activity(act, 82)
    assert replay(Side, h.events, None).commands == [CompleteWorkflow(82)]
    assert calls == [1]  # not called again on replay


def test_get_version_new_run_and_old_history():
    @workflow.defn(name="versioned")
    class Versioned:
        def run(self, ctx):
            version = yield ctx.get_version("change-1", 0, 2)
            result = yield ctx.schedule_activity("v2" if version == 2 else "v0", [])
            return [version, result]

    h = HistoryBuilder()
    outcome = replay(Versioned, h.events, None)
    assert [c.to_wire()["type"] for c in outcome.commands] == ["record_version_marker", "schedule_activity"]
    assert outcome.commands[1] == ScheduleActivity("v2")
    _, act = h.apply(outcome.commands)
    h.complete_activity(act, "ok")
    assert replay(Versioned, h.events, None).commands == [CompleteWorkflow([2, "ok"])]

    # A history written before the change has no marker: the run keeps the old branch.
    old = HistoryBuilder()
    (seq,) = old.apply([ScheduleActivity("v0")])
    old.complete_activity(seq, "legacy")
    assert replay(Versioned, old.events, None).commands == [CompleteWorkflow([0, "legacy"])]


# ------------------------------------------------------------------ fan-out


def test_fan_out_completing_in_reverse_order_replays_in_yield_order():
    h = HistoryBuilder()
    outcome = replay(FanOut, h.events, [["a", "b", "c"]])
    assert [c.activity_type for c in outcome.commands] == ["process_0", "process_1", "process_2"]
    seqs = h.apply(outcome.commands)
    for seq, value in zip(reversed(seqs), ["C", "B", "A"], strict=True):
        h.complete_activity(seq, value)
    assert replay(FanOut, h.events, [["a", "b", "c"]]).commands == [CompleteWorkflow(["A", "B", "C"])]


def test_partially_resolved_fan_out_blocks_and_re_emits_the_group():
    h = HistoryBuilder()
    seqs = h.apply(replay(FanOut, h.events, [["a", "b"]]).commands)
    h.complete_activity(seqs[1], "B")
    outcome = replay(FanOut, h.events, [["a", "b"]])
    assert outcome.commands == [ScheduleActivity("process_0", ["a"]), ScheduleActivity("process_1", ["b"])]


def test_same_type_parallel_results_follow_sequence_not_completion_order():
    @workflow.defn(name="same-type")
    class SameType:
        def run(self, ctx):
            return (yield [ctx.schedule_activity("work", [i]) for i in range(3)])

    h = HistoryBuilder()
    seqs = h.apply(replay(SameType, h.events, None).commands)
    h.complete_activity(seqs[2], 2)
    h.complete_activity(seqs[0], 0)
    h.complete_activity(seqs[1], 1)
    assert replay(SameType, h.events, None).commands == [CompleteWorkflow([0, 1, 2])]


@workflow.defn(name="two-children")
class TwoChildren:
    def run(self, ctx):
        return (yield [ctx.start_child_workflow("kid", ["slow"]), ctx.start_child_workflow("kid", ["quick"])])


def _child_events(*resolved: tuple[int, str]) -> list[dict[str, Any]]:
    """A fan-out of two children as the server records it: each step, then its child's run."""
    events: list[dict[str, Any]] = [{"event_type": "WorkflowStarted", "payload": {}}]
    for seq in (3, 4):
        link = {"sequence": seq, "child_workflow_type": "kid", "workflow_link_id": f"l{seq}"}
        events.append({"event_type": "ChildWorkflowScheduled", "payload": link})
        events.append({"event_type": "ChildRunStarted", "payload": {**link, "child_run_number": 1}})
    for seq, value in resolved:
        payload = {"sequence": seq, "child_workflow_type": "kid", "result": codec.encode(value)}
        events.append({"event_type": "ChildRunCompleted", "payload": {**payload, "payload_codec": "avro"}})
    return events


def test_children_of_a_fan_out_are_two_steps_whatever_order_they_finish_in():
    # ChildRunStarted sits between the two scheduling events: the batch is still one group, so
    # the second child is a step of its own, not a re-send of the first.
    done = _child_events((4, "quick"), (3, "slow"))
    assert replay(TwoChildren, done, None).commands == [CompleteWorkflow(["slow", "quick"])]
    half = replay(TwoChildren, _child_events((4, "quick")), None)
    assert [c.arguments for c in half.commands] == [["slow"], ["quick"]]  # both re-sent, nothing new


def test_history_without_sequences_falls_back_to_position():
    # The shape of hand-written / 0.3.1 golden fixtures: no ids, no sequences, JSON payloads.
    events = [
        {"event_type": "WorkflowStarted", "payload": {}},
        {"event_type": "ActivityScheduled", "payload": {"activity_type": "process_0"}},
        {"event_type": "ActivityScheduled", "payload": {"activity_type": "process_1"}},
        {"event_type": "ActivityCompleted", "payload": {"result": '"first"'}},
        {"event_type": "ActivityCompleted", "payload": {"result": '"second"'}},
    ]
    outcome = replay(FanOut, events, [["a", "b"]], payload_codec=None)
    assert outcome.commands == [CompleteWorkflow(["first", "second"])]


def test_resolution_only_history_without_scheduling_events():
    events = [
        {"event_type": "WorkflowStarted", "payload": {}},
        {"event_type": "ActivityCompleted", "payload": {"result": '"hello Ada"'}},
    ]
    assert replay(Greeter, events, ["Ada"], payload_codec=None).commands == [CompleteWorkflow("hello Ada")]


def test_envelope_codec_wins_over_payload_codec():
    events = [
        {"event_type": "ActivityScheduled", "payload": {"sequence": 3, "activity_type": "greet"}},
        {
            "event_type": "ActivityCompleted",
            "payload": {
                "sequence": "3",
                "result": {"codec": "avro", "blob": codec.encode_value_v1("typed")},
                "payload_codec": "bogus",
            },
        },
    ]
    assert replay(Greeter, events, ["x"], payload_codec=None).commands == [CompleteWorkflow("typed")]


def test_undecodable_payload_is_a_replay_error():
    events = [
        {"event_type": "ActivityScheduled", "payload": {"sequence": 3, "activity_type": "greet"}},
        {
            "event_type": "ActivityCompleted",
            "payload": {"sequence": 3, "result": "%%%", "payload_codec": "avro"},
        },
    ]
    with pytest.raises(PayloadError):
        replay(Greeter, events, ["x"])


# ------------------------------------------------------------------ failures


def test_activity_failure_is_thrown_into_the_workflow():
    @workflow.defn(name="catcher")
    class Catcher:
        def run(self, ctx):
            try:
                yield ctx.schedule_activity("flaky", [])
            except ActivityFailed as exc:
                return {"caught": exc.message, "type": exc.exception_type, "activity": exc.activity_type}
            return "unreachable"

    h = HistoryBuilder()
    (seq,) = h.apply(replay(Catcher, h.events, None).commands)
    h.fail_activity(seq, "boom", "ValueError")
    assert replay(Catcher, h.events, None).commands == [
        CompleteWorkflow({"caught": "boom", "type": "ValueError", "activity": "flaky"})
    ]


def test_uncaught_failure_fails_the_workflow():
    h = HistoryBuilder()
    (seq,) = h.apply(replay(Greeter, h.events, ["x"]).commands)
    h.fail_activity(seq, "boom")
    outcome = replay(Greeter, h.events, ["x"])
    assert outcome.commands == [FailWorkflow("boom", "ActivityFailed")]
    assert outcome.commands[0].to_wire() == {
        "type": "fail_workflow",
        "message": "boom",
        "exception_type": "ActivityFailed",
    }


def test_workflow_exception_becomes_fail_workflow():
    @workflow.defn(name="raiser")
    class Raiser:
        def run(self, ctx):
            yield ctx.start_timer(1)
            raise ValueError("bad input")

    h = HistoryBuilder()
    (seq,) = h.apply(replay(Raiser, h.events, None).commands)
    h.fire_timer(seq)
    assert replay(Raiser, h.events, None).commands == [FailWorkflow("bad input", "ValueError")]


def test_continue_as_new_is_terminal():
    @workflow.defn(name="poller")
    class Poller:
        def run(self, ctx, iteration=0):
            yield ctx.start_timer(1)
            return ContinueAsNew(arguments=[iteration + 1])

    h = HistoryBuilder()
    (seq,) = h.apply(replay(Poller, h.events, [4]).commands)
    h.fire_timer(seq)
    outcome = replay(Poller, h.events, [4])
    assert outcome.commands == [ContinueAsNew(5)]
    assert outcome.commands[0].to_wire() == {"type": "continue_as_new", "arguments": codec.envelope([5])}


def test_yielding_a_non_command_is_a_type_error_in_the_workflow():
    @workflow.defn(name="bad-yield")
    class BadYield:
        def run(self, ctx):
            yield "not a command"

    outcome = replay(BadYield, [], None)
    assert isinstance(outcome.commands[0], FailWorkflow)
    assert outcome.commands[0].exception_type == "TypeError"


# ------------------------------------------------------------------ non-determinism


def test_changed_activity_type_names_history_code_and_location():
    @workflow.defn(name="changed")
    class Changed:
        def run(self, ctx):
            first = yield ctx.schedule_activity("greet", [])
            second = yield ctx.schedule_activity("charge_card", [first])  # CHANGED-LINE
            return second

    h = HistoryBuilder()
    (seq,) = h.apply([ScheduleActivity("greet")])
    h.complete_activity(seq, 1)
    h.apply([ScheduleActivity("send_email")])
    with pytest.raises(NonDeterministicReplayError) as info:
        replay(Changed, h.events, None, run_id="run-42")
    message = str(info.value)
    assert "'changed'" in message and "run-42" in message
    assert "step #2" in message
    assert "ActivityScheduled 'send_email' (sequence 5)" in message
    assert "schedule_activity 'charge_card'" in message
    import inspect

    lines, start = inspect.getsourcelines(Changed.run)
    expected_line = start + next(i for i, line in enumerate(lines) if "CHANGED-LINE" in line)
    assert f"{__file__}:{expected_line}" in message


def test_timer_where_history_has_activity_is_non_deterministic():
    h = HistoryBuilder()
    h.apply([ScheduleActivity("greet")])
    with pytest.raises(NonDeterministicReplayError, match="start_timer"):
        replay(TimerThenActivity, h.events, ["x"])


def test_finishing_with_unconsumed_recorded_steps_is_non_deterministic():
    @workflow.defn(name="shorter")
    def shorter(ctx):
        return "done"

    h = HistoryBuilder()
    h.apply([ScheduleActivity("greet")])
    with pytest.raises(NonDeterministicReplayError, match="history recorded 1 more"):
        replay(shorter, h.events, None)


# ------------------------------------------------------------------ clock, random, logger


@workflow.defn(name="clock")
class Clock:
    def run(self, ctx):
        times = [ctx.now().isoformat()]
        yield ctx.start_timer(5)
        times.append(ctx.now().isoformat())
        yield ctx.schedule_activity("a", [])
        times.append(ctx.now().isoformat())
        return {"times": times, "rand": ctx.random().random(), "uuid": str(ctx.uuid4())}


def _drive_clock() -> HistoryBuilder:
    h = HistoryBuilder()
    (t,) = h.apply(replay(Clock, h.events, None, run_id="r").commands)
    h.fire_timer(t)
    (a,) = h.apply(replay(Clock, h.events, None, run_id="r").commands)
    h.complete_activity(a, None)
    return h


def test_now_is_deterministic_and_follows_history():
    h = _drive_clock()
    first = replay(Clock, h.events, None, run_id="r").commands[0]
    second = replay(Clock, h.events, None, run_id="r").commands[0]
    assert isinstance(first, CompleteWorkflow)
    assert first == second
    times = first.result["times"]
    assert times[0] == "2026-01-01T12:00:00+00:00"
    fired_at = next(e["recorded_at"] for e in h.events if e["event_type"] == "TimerFired")
    assert times[1] == fired_at.replace(".000000Z", "+00:00")
    assert times[0] < times[1] < times[2]


def test_random_and_uuid_are_seeded_by_run_id():
    h = _drive_clock()
    a = replay(Clock, h.events, None, run_id="r").commands[0].result
    b = replay(Clock, h.events, None, run_id="other").commands[0].result
    assert a["rand"] != b["rand"] and a["uuid"] != b["uuid"]
    assert a["uuid"][14] == "4"


def test_logger_is_silent_while_replaying(caplog: pytest.LogCaptureFixture):
    @workflow.defn(name="logging")
    class Logging:
        def run(self, ctx):
            ctx.logger.info("before first step")
            yield ctx.schedule_activity("a", [])
            ctx.logger.info("after first step")
            yield ctx.schedule_activity("b", [])
            return None

    caplog.set_level(logging.INFO, logger="durable_workflow.workflow.replay")
    h = HistoryBuilder()
    (a,) = h.apply(replay(Logging, h.events, None).commands)
    assert [r.getMessage() for r in caplog.records] == ["before first step"]
    assert caplog.records[0].name == "durable_workflow.workflow.replay"
    caplog.clear()
    h.complete_activity(a, None)
    (b,) = h.apply(replay(Logging, h.events, None).commands)
    assert [r.getMessage() for r in caplog.records] == ["after first step"]
    caplog.clear()
    h.complete_activity(b, None)
    replay(Logging, h.events, None)
    assert caplog.records == []


# ------------------------------------------------------------------ signals


def test_signals_are_applied_where_the_code_was_waiting():
    @workflow.defn(name="approval")
    class Approval:
        def __init__(self) -> None:
            self.approved_by: Any = None

        @workflow.signal("approve")
        def approve(self, by: str) -> None:
            self.approved_by = by

        def run(self, ctx):
            seen_before = self.approved_by
            yield ctx.schedule_activity("wait_for_approval", [])
            return {"before": seen_before, "approved_by": self.approved_by}

    h = HistoryBuilder()
    (seq,) = h.apply(replay(Approval, h.events, None).commands)
    h.signal("approve", ["alice"])
    outcome = replay(Approval, h.events, None)
    assert outcome.commands == [ScheduleActivity("wait_for_approval")]
    assert outcome.workflow_instance.approved_by == "alice"
    h.complete_activity(seq, None)
    assert replay(Approval, h.events, None).commands == [
        CompleteWorkflow({"before": None, "approved_by": "alice"})
    ]


def test_a_signal_without_a_handler_fails_the_task_naming_the_handlers():
    @workflow.defn(name="approval_only")
    class ApprovalOnly:
        @workflow.signal("approve")
        def approve(self) -> None:
            pass

        @workflow.signal("reject")
        def reject(self) -> None:
            pass

        def run(self, ctx):
            yield ctx.schedule_activity("wait", [])

    h = HistoryBuilder()
    h.apply(replay(ApprovalOnly, h.events, None).commands)
    h.signal("aprove", [])
    # Not a workflow failure (no FailWorkflow command): the replay itself raises, so the worker
    # fails the task and the run waits for code that can handle the signal.
    with pytest.raises(UnhandledSignal) as info:
        replay(ApprovalOnly, h.events, None, strict_signals=True)
    message = str(info.value)
    assert "'aprove'" in message
    assert "['approve', 'reject']" in message
    assert isinstance(info.value, NonDeterministicReplayError)


def test_a_signal_without_a_handler_is_ignored_with_a_warning_outside_the_worker(caplog) -> None:
    @workflow.defn(name="no_handlers")
    class NoHandlers:
        def run(self, ctx):
            yield ctx.schedule_activity("wait", [])

    h = HistoryBuilder()
    h.apply(replay(NoHandlers, h.events, None).commands)
    h.signal("unknown", [])
    caplog.set_level("WARNING", logger="durable_workflow.workflow.replay")
    # The replayer, the harness and query replays read histories as SDK 0.4.84 does.
    assert replay(NoHandlers, h.events, None).commands == [ScheduleActivity("wait")]
    assert any("'unknown'" in r.getMessage() for r in caplog.records)
