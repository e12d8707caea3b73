"""Reading describe's ``waiting_on``, wait and archive fields into ``WorkflowExecution``."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow.client import WaitingOn, WorkflowExecution

BASE = {"workflow_id": "wf-1", "run_id": "r1", "workflow_type": "t", "status": "waiting"}


def test_every_part_of_the_block_is_read() -> None:
    execution = WorkflowExecution.from_dict(
        {
            **BASE,
            "wait_kind": "activity",
            "wait_reason": "Waiting for activity greet (attempt 1).",
            "paused": False,
            "pause_reason": None,
            "archived": False,
            "waiting_on": {
                "activities": [
                    {
                        "activity_execution_id": "a1",
                        "activity_type": "greet",
                        "attempt": 1,
                        "status": "running",
                    }
                ],
                "timers": [{"timer_id": "t1", "fire_at": "2026-03-01T12:10:00.000000Z"}],
                "condition_waits": [
                    {"condition_wait_id": "c1", "key": "ok", "timeout_seconds": 30, "timeout_at": "x"}
                ],
                "children": [{"child_workflow_id": "k1", "child_run_id": None, "child_workflow_type": "kid"}],
                "signals": {"count": 2, "names": ["a", "b"]},
                "updates": [{"update_id": "u1", "update_name": "bump"}],
            },
        }
    )
    waiting = execution.waiting_on
    assert waiting.activities == [WaitingOn.Activity("a1", "greet", 1, "running")]
    assert waiting.timers == [WaitingOn.Timer("t1", "2026-03-01T12:10:00.000000Z")]
    assert waiting.condition_waits == [WaitingOn.ConditionWait("c1", "ok", 30, "x")]
    assert waiting.children == [WaitingOn.Child("k1", None, "kid")]
    assert (waiting.signal_count, waiting.signal_names) == (2, ["a", "b"])
    assert waiting.updates == [WaitingOn.Update("u1", "bump")]
    assert not waiting.is_empty
    assert execution.wait_kind == "activity" and execution.paused is False and execution.archived is False


@pytest.mark.parametrize(
    "block",
    [None, [], "nope", {}, {"activities": "x", "signals": [], "timers": [1, None]}],
)
def test_a_server_without_the_block_or_with_a_foreign_one_gives_an_empty_block(block: Any) -> None:
    data = dict(BASE) if block is None else {**BASE, "waiting_on": block}
    execution = WorkflowExecution.from_dict(data)
    assert execution.waiting_on == WaitingOn() and execution.waiting_on.is_empty
    assert execution.wait_kind is None and execution.paused is None and execution.archived is None


def test_archive_fields_are_read() -> None:
    execution = WorkflowExecution.from_dict(
        {**BASE, "status": "completed", "archived": True, "archived_at": "t", "archive_reason": "retention"}
    )
    assert (execution.archived, execution.archived_at, execution.archive_reason) == (True, "t", "retention")
