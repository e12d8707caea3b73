"""The task-queue and worker result types read any server's answer tolerantly and keep it whole."""

from __future__ import annotations

from durable_workflow.client import (
    TaskQueueBuildIdRollout,
    TaskQueueBuildIdRolloutState,
    TaskQueueDescription,
    TaskQueueList,
    WorkerDescription,
    WorkerList,
)


def test_empty_answers_read_as_empty_results() -> None:
    description = TaskQueueDescription.from_dict({})
    assert (description.name, description.pollers, description.current_leases) == ("", [], [])
    assert (
        description.admission.workflow_tasks is None and description.stats.approximate_backlog_count is None
    )
    assert list(TaskQueueList.from_dict({})) == []
    assert list(TaskQueueBuildIdRollout.from_dict({}, task_queue="q")) == []
    assert TaskQueueBuildIdRollout.from_dict({}, task_queue="q").task_queue == "q"
    state = TaskQueueBuildIdRolloutState.from_dict({"build_id": None}, task_queue="q")
    assert (state.task_queue, state.build_id, state.new_start_selected) == ("q", None, False)
    assert WorkerDescription.from_dict({}, worker_id="w").worker_id == "w"
    assert len(WorkerList.from_dict({"workers": "not a list"})) == 0


def test_wrongly_typed_facts_read_as_none_and_raw_keeps_everything() -> None:
    body = {
        "name": "q",
        "stats": {"approximate_backlog_count": "7", "workflow_tasks": {"ready_count": True}},
        "admission": {"workflow_tasks": {"status": "accepting", "server_lock_required": "yes", "extra": 1}},
        "pollers": [{"worker_id": "w", "supported_workflow_types": ["a", 3]}, "junk"],
        "future_key": {"x": 1},
    }
    description = TaskQueueDescription.from_dict(body)
    assert description.stats.approximate_backlog_count == 7  # numeric text is a number
    assert description.stats.workflow_tasks.ready_count is None  # a boolean is not a count
    admission = description.admission.workflow_tasks
    assert admission is not None and admission.status == "accepting"
    assert admission.server_lock_required is None and admission.raw["extra"] == 1
    [poller] = description.pollers
    assert poller.supported_workflow_types == ["a"]
    assert description.raw["future_key"] == {"x": 1}
