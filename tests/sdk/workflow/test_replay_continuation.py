"""A kept replay resumed with new events emits exactly what a full replay of the longer history does.

For every prefix of a history (every point at which a worker could get the run's next task), the
engine kept from the previous successful prefix is resumed with the events in between, and its
outcome is compared with a full replay of that prefix: the same commands (on the wire), the same
``resent`` flag, and an exception exactly when the full replay raises one. Histories come from
the test harness over many workflow shapes (the harness property test's generated programs,
signals, waits with timeouts, updates, continue-as-new) and from the checked-in server and
reference-server histories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from durable_workflow import workflow
from durable_workflow.testing import WorkflowEnvironment, load_history_file
from durable_workflow.workflow._commands import commands_to_wire
from durable_workflow.workflow._engine import ContinuationMismatch, ReplayEngine
from durable_workflow.workflow._history_compat import start_input
from durable_workflow.workflow._replay import replay, replay_kept
from tests.sdk.testing.test_environment_harness import Gate, GateWithWork
from tests.sdk.testing.test_harness_property import OPS, build_env, make_workflow
from tests.sdk.testing.test_history_fixtures import FanOutWorkflow

HISTORIES = Path(__file__).resolve().parents[2] / "fixtures" / "histories"


def _full(wf: Any, events: Sequence[Mapping[str, Any]], codec: str | None) -> Any:
    try:
        outcome = replay(wf, events, start_input(events, codec), run_id="r", payload_codec=codec)
    except Exception as exc:
        return type(exc)
    return commands_to_wire(outcome.commands), outcome.resent


def assert_continuations_match(
    wf: Any, events: Sequence[Mapping[str, Any]], codec: str | None = "avro"
) -> int:
    """Compare resumed and full replays at every prefix; returns how many resumes were compared."""
    engine: ReplayEngine | None = None
    seen = 0
    compared = 0
    for end in range(1, len(events) + 1):
        expected = _full(wf, events[:end], codec)
        if engine is not None:
            try:
                outcome = engine.resume(events[seen:end])
                got: Any = (commands_to_wire(outcome.commands), outcome.resent)
            except ContinuationMismatch:
                # History does not hold the last outcome's commands (a prefix no server hands
                # out): the worker replays in full, and so does this check.
                engine, got = None, expected
                compared -= 1
            except Exception as exc:
                got = type(exc)
            assert got == expected, f"prefix {end} (resumed from {seen})"
            compared += 1
            if engine is None or not engine.suspended:
                engine = None
            else:
                seen = end
        if engine is None and not isinstance(expected, type):
            try:
                _, engine = replay_kept(
                    wf, events[:end], start_input(events[:end], codec), run_id="r", payload_codec=codec
                )
            except Exception:
                engine = None
            seen = end
    return compared


@settings(max_examples=40, deadline=None)
@given(ops=OPS, signals=st.lists(st.integers(0, 9), max_size=3))
def test_resumed_replays_match_full_replays_of_generated_programs(ops: Any, signals: list[int]) -> None:
    wf = make_workflow(ops)
    env = build_env(signals)
    env.execute_workflow(wf)
    (run,) = env.runs
    resumed = assert_continuations_match(wf, run.history)
    steps = sum(1 for kind, _ in ops if kind in ("act", "timer", "fan", "child"))
    assert resumed >= steps  # at least the prefix resolving each blocking step


def test_sequential_activities() -> None:
    @workflow.defn(name="cont.sequential")
    class Sequential:
        def run(self, ctx: Any, count: int) -> Any:
            total = 0
            for i in range(count):
                total += yield ctx.schedule_activity("add", [i])
            return total

    env = WorkflowEnvironment()
    env.register_activity("add", lambda i: i)
    assert env.execute_workflow(Sequential, 12) == sum(range(12))
    assert assert_continuations_match(Sequential, env.runs[0].history) > 12


def test_signals_waits_and_timeouts() -> None:
    env = WorkflowEnvironment()
    env.register_activity("notify", lambda: env.signal("approve", ["carol"]))
    env.signal("approve", ["alice"])
    env.execute_workflow(GateWithWork, 30)
    assert assert_continuations_match(GateWithWork, env.runs[0].history) > 0
    timed_out = WorkflowEnvironment()
    timed_out.signal("approve", ["alice"])
    timed_out.execute_workflow(Gate, 30)
    assert assert_continuations_match(Gate, timed_out.runs[0].history) > 0


def test_updates_are_re_applied_in_the_same_place() -> None:
    env = WorkflowEnvironment()
    env.signal("approve", ["alice"])
    env.register_activity("notify", lambda: env.update("set_limit", [1]))
    env.execute_workflow(GateWithWork, 60)
    history = env.runs[0].history
    assert any(e["event_type"] == "UpdateApplied" for e in history)
    assert assert_continuations_match(GateWithWork, history) > 0


def test_continue_as_new_and_children() -> None:
    @workflow.defn(name="cont.chain")
    class Chain:
        def run(self, ctx: Any, n: int) -> Any:
            yield ctx.sleep(5)
            child = yield ctx.start_child_workflow("cont.child", [n])
            version = yield ctx.get_version("v", 0, 2)
            side = yield ctx.side_effect(lambda: n * 10)
            if n < 2:
                return ctx.continue_as_new(n + 1)
            return [child, version, side]

    env = WorkflowEnvironment()
    env.register_child_workflow_result("cont.child", "kid")
    env.register_workflow(Chain)
    assert env.execute_workflow(Chain, 0) == ["kid", 2, 20]
    assert len(env.runs) == 3
    for run in env.runs:
        assert assert_continuations_match(Chain, run.history) > 0


def test_checked_in_server_histories() -> None:
    document = load_history_file(HISTORIES / "server-fan-out-reverse-order.json")
    events = document["events"] if isinstance(document, dict) else document
    assert assert_continuations_match(FanOutWorkflow, events, None) >= 3
