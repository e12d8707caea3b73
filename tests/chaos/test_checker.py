"""The chaos checker finds each kind of violation (synthetic histories; no processes).

A checker that passes everything proves nothing: each case below breaks one invariant in an
otherwise valid set of histories and expects exactly that violation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from durable_workflow.protocol import codec

from .checker import Execution, RunRecord, Tally, check_executions, check_workflow
from .driver import Planned
from .report import ChaosReport
from .workload import Spec, expected_result, step_result, update_note

SPEC = Spec(
    id="w", gen=0, modes=["plain", "flaky"], timer=1, signals=2, update=True, child=True, carried=None
)


class History:
    def __init__(self, workflow_id: str, run_id: str) -> None:
        self.record = RunRecord(workflow_id, run_id, [], {})

    def add(self, event_type: str, **payload: Any) -> History:
        events = self.record.events
        events.append(
            {
                "id": f"e{len(events)}",
                "sequence": len(events) + 1,
                "event_type": event_type,
                "payload": payload,
            }
        )
        return self

    def step(self, key: str, execution: str, attempt: int = 1) -> History:
        self.add("ActivityScheduled", activity_execution_id=execution)
        return self.add(
            "ActivityCompleted",
            activity_execution_id=execution,
            attempt_number=attempt,
            result=codec.encode(key),
        )

    def timer(self, timer_id: str) -> History:
        return self.add("TimerScheduled", timer_id=timer_id).add("TimerFired", timer_id=timer_id)

    def done(self) -> RunRecord:
        exported = [
            {"id": e["id"], "sequence": e["sequence"], "type": e["event_type"]} for e in self.record.events
        ]
        last = self.record.events[-1]["sequence"]
        self.record.export = {"history_events": exported, "workflow": {"last_history_sequence": last}}
        return self.record


def valid() -> tuple[list[RunRecord], list[RunRecord]]:
    first = History("w", "r1").add("WorkflowStarted")
    first.step(step_result("w", "g0-s0"), "a1").step(step_result("w", "g0-s1"), "a2", attempt=2)
    first.timer("t1")
    for j in range(2):
        first.add("SignalReceived", request_id=f"w:add:{j}")
    first.add(
        "UpdateAccepted", update_id="u1", request_id="w:update", arguments=codec.encode([update_note("w")])
    )
    first.add("UpdateCompleted", update_id="u1")
    first.add("ChildWorkflowScheduled", child_workflow_instance_id="w:child")
    first.add("WorkflowContinuedAsNew")
    last = History("w", "r2").add("WorkflowStarted").step(step_result("w", "g1-s0"), "a3").timer("t2")
    last.add("WorkflowCompleted", output=codec.encode(expected_result(SPEC)))
    child = History("w:child", "c1").add("WorkflowStarted").step(step_result("w", "child-s0"), "a4")
    child.timer("t3").add("WorkflowCompleted", output=codec.encode("child:w/child-s0"))
    return [first.done(), last.done()], [child.done()]


def test_valid_histories_have_no_violation() -> None:
    runs, child = valid()
    assert check_workflow(Planned(SPEC), runs, child, Tally()) == []


def _drop_event(run: RunRecord, sequence: int) -> None:
    run.events = [e for e in run.events if e["sequence"] != sequence]


def _duplicate_event(run: RunRecord, event_type: str) -> None:
    event = next(e for e in run.events if e["event_type"] == event_type)
    run.events.append({**copy.deepcopy(event), "sequence": len(run.events) + 1, "id": "dup"})
    run.export["history_events"].append({"id": "dup", "sequence": len(run.events), "type": event_type})
    run.export["workflow"]["last_history_sequence"] = len(run.events)


Mutation = Callable[[list[RunRecord], list[RunRecord]], None]
CASES: dict[str, tuple[Mutation, str]] = {
    "gap": (lambda runs, child: _drop_event(runs[0], 3), "sequence gap"),
    "duplicate sequence": (
        lambda runs, child: runs[1].events.append(dict(runs[1].events[0])),
        "duplicate sequence numbers",
    ),
    "timer fired twice": (lambda runs, child: _duplicate_event(runs[1], "TimerFired"), "fired 2 times"),
    "signal twice": (lambda runs, child: _duplicate_event(runs[0], "SignalReceived"), "recorded 2 times"),
    "step completed twice": (
        lambda runs, child: _duplicate_event(child[0], "ActivityCompleted"),
        "completed 2 times in history",
    ),
    "wrong result": (
        lambda runs, child: runs[1].events[-1]["payload"].update(output=codec.encode({"final": "x"})),
        "result",
    ),
    "lost child": (lambda runs, child: child.clear(), "the child has 0 runs"),
    "update twice": (lambda runs, child: _duplicate_event(runs[0], "UpdateAccepted"), "2 updates accepted"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_invariant_is_a_violation(case: str) -> None:
    mutate, expected = CASES[case]
    runs, child = valid()
    mutate(runs, child)
    violations = check_workflow(Planned(SPEC), runs, child, Tally())
    assert any(expected in v for v in violations), violations


def test_a_completion_no_worker_finished_is_a_violation_and_reruns_are_counted() -> None:
    tally = Tally()
    tally.completions[("w/g0-s0", 2)] = 1
    executions = [
        Execution("start", "w", "g0-s0", 1, 10),  # cut off by a kill
        Execution("start", "w", "g0-s0", 2, 11),
        Execution("done", "w", "g0-s0", 2, 11),
        Execution("start", "w", "g0-s1", 1, 11),
        Execution("done", "w", "g0-s1", 1, 11),
    ]
    tally.completions[("w/g0-s1", 3)] = 1  # attempt 3 never ran anywhere
    report = ChaosReport()
    check_executions(report, tally, executions)
    assert report.redeliveries == 1 and report.abandoned_executions == 1
    assert report.violations == ["step w/g0-s1 completed by attempt 3, which no worker finished"]
