"""Property: a history produced by driving a workflow step by step replays to the same result.

A random workflow program (activities, timers, side effects, fan-outs) is driven like a server
would: replay, record the new steps, resolve a random subset of open steps in random order,
repeat. The finished history must replay with no new commands and the same result, however
the resolutions were interleaved.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from durable_workflow import workflow
from durable_workflow.workflow import CompleteWorkflow, ScheduleActivity, StartTimer
from durable_workflow.workflow._replay import replay
from tests.sdk.workflow.wf_history_builders import HistoryBuilder

NAMES = ["a", "b", "c"]
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("act"), st.sampled_from(NAMES)),
        st.tuples(st.just("timer"), st.integers(0, 3)),
        st.tuples(st.just("side"), st.integers(-5, 5)),
        st.tuples(st.just("fan"), st.lists(st.sampled_from(NAMES), min_size=1, max_size=4)),
    ),
    max_size=6,
)


def make_workflow(ops: list[tuple[str, Any]]) -> Any:
    def run(self: Any, ctx: Any) -> Any:
        out: list[Any] = []
        for i, (kind, arg) in enumerate(ops):
            if kind == "act":
                out.append((yield ctx.schedule_activity(arg, [i])))
            elif kind == "timer":
                yield ctx.start_timer(arg)
                out.append("t")
            elif kind == "side":
                out.append((yield ctx.side_effect(lambda v=arg: v)))
            else:
                out.append((yield [ctx.schedule_activity(n, [i, j]) for j, n in enumerate(arg)]))
        return out

    return workflow.defn(name="prop")(type("Prop", (), {"run": run}))


def expected_result(ops: list[tuple[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for i, (kind, arg) in enumerate(ops):
        if kind == "act":
            out.append([arg, [i]])
        elif kind == "timer":
            out.append("t")
        elif kind == "side":
            out.append(arg)
        else:
            out.append([[n, [i, j]] for j, n in enumerate(arg)])
    return out


@settings(max_examples=60, deadline=None)
@given(ops=ops_strategy, data=st.data())
def test_driven_history_replays_to_the_same_result(ops: list[tuple[str, Any]], data: st.DataObject) -> None:
    wf = make_workflow(ops)
    h = HistoryBuilder()
    live_result: Any = None
    for _ in range(100):
        outcome = replay(wf, h.events, None, run_id="prop-run")
        # Replaying the same history twice gives the same commands.
        assert replay(wf, h.events, None, run_id="prop-run").commands == outcome.commands
        if outcome.terminal is not None:
            assert isinstance(outcome.terminal, CompleteWorkflow)
            h.apply(outcome.commands[:-1])
            live_result = outcome.terminal.result
            break
        if h.open_steps:
            # Blocked on steps that are already scheduled: the engine re-sends that yield,
            # which the server maps onto the open steps; nothing new is recorded.
            assert all(isinstance(c, (ScheduleActivity, StartTimer)) for c in outcome.commands)
        else:
            h.apply(outcome.commands)
        open_seqs = sorted(h.open_steps)
        chosen = data.draw(st.lists(st.sampled_from(open_seqs), min_size=1, unique=True)) if open_seqs else []
        for seq in chosen:
            command = h.open_steps[seq]
            if isinstance(command, ScheduleActivity):
                h.complete_activity(seq, [command.activity_type, command.arguments])
            else:
                h.fire_timer(seq)
    else:
        raise AssertionError("workflow did not finish")

    assert live_result == expected_result(ops)
    final = replay(wf, h.events, None, run_id="prop-run")
    assert final.commands == [CompleteWorkflow(live_result)]
