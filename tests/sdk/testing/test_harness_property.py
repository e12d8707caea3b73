"""Property: any history produced by running a workflow replays with no new commands and the
same result, whatever mix of context operations the workflow uses."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from durable_workflow import Replayer, workflow
from durable_workflow.testing import WorkflowEnvironment, replay_history
from durable_workflow.workflow import CompleteWorkflow

NAMES = ["a", "b", "c"]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("act"), st.sampled_from(NAMES)),
        st.tuples(st.just("timer"), st.integers(0, 120)),
        st.tuples(st.just("side"), json_scalars),
        st.tuples(st.just("fan"), st.lists(st.sampled_from(NAMES), min_size=1, max_size=4)),
        st.tuples(st.just("child"), st.sampled_from(["child-x", "child-y"])),
        st.tuples(st.just("version"), st.integers(1, 4)),
        st.tuples(st.just("attrs"), st.sampled_from(NAMES)),
        st.tuples(st.just("wait"), st.integers(0, 3)),
        st.tuples(st.just("random"), st.just(None)),
    ),
    max_size=8,
)


def make_workflow(ops: list[tuple[str, Any]]) -> Any:
    class Program:
        def __init__(self) -> None:
            self.signals: list[Any] = []

        @workflow.signal("poke")
        def poke(self, value: Any) -> None:
            self.signals.append(value)

        def run(self, ctx: Any) -> Any:
            out: list[Any] = []
            for i, (kind, arg) in enumerate(ops):
                if kind == "act":
                    out.append((yield ctx.schedule_activity(arg, [i])))
                elif kind == "timer":
                    before = ctx.now()
                    yield ctx.sleep(arg)
                    out.append((ctx.now() - before).total_seconds())
                elif kind == "side":
                    out.append((yield ctx.side_effect(lambda v=arg: v)))
                elif kind == "fan":
                    out.append((yield [ctx.schedule_activity(n, [i, j]) for j, n in enumerate(arg)]))
                elif kind == "child":
                    out.append((yield ctx.start_child_workflow(arg, [i])))
                elif kind == "version":
                    out.append((yield ctx.get_version(f"change-{i}", 0, arg)))
                elif kind == "attrs":
                    out.append((yield ctx.upsert_search_attributes({arg: i})))
                elif kind == "wait":
                    out.append(
                        (
                            yield ctx.wait_condition(
                                lambda n=arg: len(self.signals) >= n, key=f"w{i}", timeout=5
                            )
                        )
                    )
                else:
                    out.append(str(ctx.uuid4()))
            return {"out": out, "signals": self.signals}

    return workflow.defn(name="program")(Program)


def expected(ops: list[tuple[str, Any]], signals: list[int]) -> list[Any]:
    out: list[Any] = []
    for i, (kind, arg) in enumerate(ops):
        if kind == "act":
            out.append([arg, [i]])
        elif kind == "timer":
            out.append(float(arg))
        elif kind == "side":
            out.append(arg)
        elif kind == "fan":
            out.append([[n, [i, j]] for j, n in enumerate(arg)])
        elif kind == "child":
            out.append({"child": arg})
        elif kind == "version":
            out.append(arg)
        elif kind == "attrs":
            out.append(None)
        elif kind == "wait":
            out.append(len(signals) >= arg)
        else:
            out.append(None)  # a uuid; compared between runs below
    return out


def build_env(signals: list[int]) -> WorkflowEnvironment:
    env = WorkflowEnvironment()
    for name in NAMES:
        env.register_activity(name, lambda *args, _n=name: [_n, list(args)])
    env.register_child_workflow_result("child-x", {"child": "child-x"})
    env.register_child_workflow_result("child-y", {"child": "child-y"})
    for value in signals:
        env.signal("poke", [value])
    return env


@settings(max_examples=80, deadline=None)
@given(ops=OPS, signals=st.lists(st.integers(0, 9), max_size=3))
def test_harness_history_replays_to_the_same_result(ops: list[tuple[str, Any]], signals: list[int]) -> None:
    wf = make_workflow(ops)
    env = build_env(signals)

    result = env.execute_workflow(wf)

    out = expected(ops, signals)
    assert [r if ops[i][0] != "random" else None for i, r in enumerate(result["out"])] == out
    assert result["signals"] == signals
    (run,) = env.runs
    # Replayed, the finished history emits nothing new and ends with the same result...
    assert replay_history(wf, run.history) == [CompleteWorkflow(result)]
    # ...every time, and through the class-based replayer's inference too.
    assert Replayer(workflows=[wf]).replay({"events": run.history}).commands == [CompleteWorkflow(result)]
    # The same run id gives the same "random" values.
    assert build_env(signals).execute_workflow(wf) == result
