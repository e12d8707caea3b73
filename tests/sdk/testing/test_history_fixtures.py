"""Checked-in histories (tests/fixtures/histories) replay: three payload encodings, server shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Replayer, workflow
from durable_workflow.errors import ActivityFailed, NonDeterministicReplayError, PayloadError
from durable_workflow.testing import load_history_file, replay_history, replay_history_file
from durable_workflow.workflow import CompleteWorkflow, ScheduleActivity

HISTORIES = Path(__file__).resolve().parents[2] / "fixtures" / "histories"


@workflow.defn(name="golden.single-activity")
class SingleActivity:
    def run(self, ctx, name):
        return (yield ctx.schedule_activity("greet", [name]))


@workflow.defn(name="golden.signal-wait")
class SignalWait:
    def __init__(self) -> None:
        self.approved_by = None

    @workflow.signal("approve")
    def approve(self, by):
        self.approved_by = by

    def run(self, ctx):
        yield ctx.wait_condition(lambda: self.approved_by is not None, key="approved")
        return {"approved_by": self.approved_by}


@workflow.defn(name="golden.timeout-wait")
class TimeoutWait:
    def __init__(self) -> None:
        self.done = False

    def run(self, ctx):
        ok = yield ctx.wait_condition(lambda: self.done, key="done", timeout=5)
        return "done" if ok else "timed out"


@workflow.defn(name="golden.version-marker")
class VersionMarker:
    def run(self, ctx, name):
        version = yield ctx.get_version("greeting", 1, 2)
        return (yield ctx.schedule_activity("greet_v2" if version == 2 else "greet_v1", [name]))


@workflow.defn(name="golden.saga-compensation")
class SagaCompensation:
    def run(self, ctx, order_id):
        reservation = yield ctx.schedule_activity("reserve", [order_id])
        try:
            yield ctx.schedule_activity("charge", [order_id])
        except ActivityFailed as failure:
            yield ctx.schedule_activity("release", [reservation])
            return {"compensated": True, "reservation": reservation, "error": failure.message}
        return {"compensated": False}


@workflow.defn(name="fan-out-example")
class FanOutWorkflow:
    def run(self, ctx, *args):
        items = args[0]
        results = yield [ctx.schedule_activity("process_item", [item]) for item in items]
        return results


GOLDEN = [SingleActivity, SignalWait, TimeoutWait, VersionMarker, SagaCompensation]
REPLAYER = Replayer(workflows=[*GOLDEN, FanOutWorkflow])

# file → the payload_codec handed to the replayer (None: the history's own tags decide).
GOLDEN_FILES = {
    "golden-json.json": None,
    "golden-avro-value-v1.json": "avro",
    "golden-avro-wrapper.json": None,
}


def golden_cases() -> list[Any]:
    params = []
    for filename, codec_name in GOLDEN_FILES.items():
        document = json.loads((HISTORIES / filename).read_text())
        assert document["fixture_schema"] == "durable-workflow.golden-history.v1"
        for case in document["cases"]:
            params.append(pytest.param(case, codec_name, id=f"{filename}:{case['family']}"))
    return params


def _matches(command: Any, expected: dict[str, Any]) -> None:
    if expected["command_type"] == "CompleteWorkflow":
        assert command == CompleteWorkflow(expected["result"])
    else:
        assert expected["command_type"] == "ScheduleActivity"
        assert command == ScheduleActivity(expected["activity_type"], expected["arguments"])


@pytest.mark.parametrize(("case", "codec_name"), golden_cases())
def test_golden_case_replays(case: dict[str, Any], codec_name: str | None) -> None:
    outcome = REPLAYER.replay(
        case["history"],
        case["start_input"],
        workflow_type=case["workflow_type"],
        payload_codec=codec_name,
    )
    (command,) = outcome.commands  # exactly one command, as the golden format demands
    _matches(command, case["expected"])


def test_every_family_is_covered() -> None:
    families = {case.values[0]["family"] for case in golden_cases()}
    assert families == {"activity", "signal-update", "wait-condition", "version-marker", "saga-compensation"}


def test_undeclared_codec_is_explained() -> None:
    document = json.loads((HISTORIES / "golden-avro-value-v1.json").read_text())
    case = document["cases"][0]
    with pytest.raises(PayloadError, match="payload_codec='avro'"):
        replay_history(SingleActivity, case["history"], case["start_input"])


def test_server_history_page_with_reverse_completions_replays_in_yield_order() -> None:
    path = HISTORIES / "server-fan-out-reverse-order.json"
    # Type, input, run id and codec all come from WorkflowStarted.
    outcome = REPLAYER.replay(load_history_file(path))
    assert outcome.commands == [CompleteWorkflow(["A", "B", "C"])]
    assert replay_history_file(FanOutWorkflow, path) == [CompleteWorkflow(["A", "B", "C"])]


def test_server_history_result_drift_is_reported() -> None:
    @workflow.defn(name="fan-out-example")
    class Reversed:
        def run(self, ctx, items):
            results = yield [ctx.schedule_activity("process_item", [item]) for item in items]
            return list(reversed(results))

    with pytest.raises(NonDeterministicReplayError) as info:
        replay_history_file(Reversed, HISTORIES / "server-fan-out-reverse-order.json")
    message = str(info.value)
    assert "WorkflowCompleted with result ['A', 'B', 'C']" in message
    assert "completes with result ['C', 'B', 'A']" in message


def test_reference_server_history_with_re_sent_steps_replays() -> None:
    document = load_history_file(HISTORIES / "reference-re-sent-fan-out.json")
    commands = replay_history(
        FanOutWorkflow, document, document["start_input"], payload_codec=document["payload_codec"]
    )
    assert commands == [CompleteWorkflow(document["expected_result"])]
