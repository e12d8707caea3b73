"""Updates end to end: the real server, the real Worker, what history records and what the client sees.

Our Worker registers ``update_validation``, so validators run before acceptance: a refusal is
``UpdateRejected`` and records nothing. A worker without that capability (as SDK 0.4.84) gets
the update accepted directly and refuses it afterwards with ``fail_update``: the caller then
gets ``update_failed`` (``InvalidArgument``) carrying the validator's message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from durable_workflow import Client, Worker, workflow
from durable_workflow.errors import InvalidArgument, UpdateRejected
from tests.helpers.e2e_env import e2e_settings, running_app

QUEUE = "updates"


@workflow.defn(name="approval")
class ApprovalWorkflow:
    """The docs' "Signals, Queries, and Updates" example, waiting for its approval."""

    def __init__(self) -> None:
        self.approved = False
        self.notes: list[str] = []

    @workflow.query("status")
    def status(self) -> dict[str, Any]:
        return {"approved": self.approved}

    @workflow.update("set_approval")
    def set_approval(self, approved: bool) -> dict[str, Any]:
        self.approved = approved
        return {"approved": self.approved}

    @set_approval.validator
    def validate_set_approval(self, approved: bool) -> None:
        if not isinstance(approved, bool):
            raise ValueError("approved must be boolean")

    @workflow.update("note")
    def note(self, text: str) -> list[str]:
        if text == "boom":
            raise RuntimeError("notes cannot explode")
        self.notes.append(text)
        return list(self.notes)

    def run(self, ctx: Any, *args: Any) -> Any:
        yield ctx.wait_condition(lambda: self.approved, key="approved")
        return {"approved": self.approved, "notes": self.notes}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url, query_task_timeout=5.0)) as started:
        yield started


class ValidatesAfterAcceptance(Worker):
    """A worker that does not offer pre-accept validation (SDK 0.4.84 registers no such capability)."""

    def _capabilities(self) -> list[str]:
        return [c for c in super()._capabilities() if c != "update_validation"]


@asynccontextmanager
async def serving(client: Client, worker_class: type[Worker] = Worker) -> AsyncIterator[Worker]:
    worker = worker_class(client, task_queue=QUEUE, workflows=[ApprovalWorkflow])
    running = asyncio.create_task(worker.run())
    try:
        await registered(client, worker.worker_id)
        yield worker
    finally:
        await worker.stop()
        await running


async def registered(client: Client, worker_id: str) -> None:
    """Return once the server lists the worker as live (queries and validation need one)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while worker_id not in [
        w["worker_id"] for w in (await client.get_cluster_info())["worker_fleet"]["workers"]
    ]:
        assert loop.time() < deadline, f"worker {worker_id} never registered"
        await asyncio.sleep(0.01)


async def events(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    run_id = (await client.describe_workflow(workflow_id)).run_id
    return list((await client.get_history(workflow_id, run_id, page_size=1000))["events"])


def of_type(history: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [e for e in history if e["event_type"] in types]


async def start(client: Client, workflow_id: str) -> None:
    await client.start_workflow(workflow_type="approval", task_queue=QUEUE, workflow_id=workflow_id)


async def recorded(client: Client, workflow_id: str, event_type: str) -> list[dict[str, Any]]:
    """The history once it holds ``event_type`` (the worker's task is in another task of this loop)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while not of_type(history := await events(client, workflow_id), event_type):
        assert loop.time() < deadline, f"{workflow_id}: no {event_type} in {history}"
        await asyncio.sleep(0.01)
    return history


async def test_docs_approval_update_completes_and_wakes_the_waiting_workflow(client: Client) -> None:
    async with serving(client):
        await start(client, "u-approve")
        assert await client.query_workflow("u-approve", "status") == {"approved": False}
        answer = await client.update_workflow("u-approve", "set_approval", [True], wait_for="completed")
        assert answer == {"approved": True}
        result = await client.get_workflow_handle("u-approve").result(timeout=20.0)
        assert result == {"approved": True, "notes": []}
        assert await client.query_workflow("u-approve", "status") == {"approved": True}
    history = await events(client, "u-approve")
    accepted, applied, completed = of_type(history, "UpdateAccepted", "UpdateApplied", "UpdateCompleted")
    assert accepted["payload"]["update_name"] == "set_approval"
    assert (
        applied["payload"]["update_id"]
        == completed["payload"]["update_id"]
        == accepted["payload"]["update_id"]
    )
    assert completed["payload"]["result"] and "failure_id" not in completed["payload"]
    assert [e["event_type"] for e in history][-1] == "WorkflowCompleted"


async def test_a_validator_refusal_is_update_rejected_and_records_nothing(client: Client) -> None:
    async with serving(client):
        await start(client, "u-refuse")
        before = await recorded(client, "u-refuse", "ConditionWaitOpened")
        assert await client.query_workflow("u-refuse", "status") == {"approved": False}
        with pytest.raises(UpdateRejected) as refused:
            await client.update_workflow("u-refuse", "set_approval", ["yes"], wait_for="completed")
        assert refused.value.status_code == 409 and refused.value.reason == "update_rejected"
        assert "approved must be boolean" in str(refused.value)
        with pytest.raises(UpdateRejected) as unknown:
            await client.update_workflow("u-refuse", "no_such_update", [1])
        assert unknown.value.status_code == 404 and unknown.value.reason == "unknown_update"
        assert await events(client, "u-refuse") == before
        await client.update_workflow("u-refuse", "set_approval", [True], wait_for="completed")
        await client.get_workflow_handle("u-refuse").result(timeout=20.0)


async def test_a_failing_handler_is_update_failed(client: Client) -> None:
    async with serving(client):
        await start(client, "u-fail")
        with pytest.raises(InvalidArgument) as failed:
            await client.update_workflow("u-fail", "note", ["boom"], wait_for="completed")
        assert failed.value.status_code == 422
        body = failed.value.body
        assert isinstance(body, dict)
        assert body["outcome"] == "update_failed" and body["update_status"] == "failed"
        assert "notes cannot explode" in body["failure_message"]
        history = await events(client, "u-fail")
        [completed] = of_type(history, "UpdateCompleted")
        assert "notes cannot explode" in completed["payload"]["message"]
        assert of_type(history, "UpdateApplied") == []


async def test_accepted_updates_are_applied_one_task_each_in_order(client: Client) -> None:
    await start(client, "u-order")
    # No worker yet: nobody validates, so both are accepted at once and wait their turn.
    assert await client.update_workflow("u-order", "note", ["first"]) is None
    assert await client.update_workflow("u-order", "note", ["second"]) is None
    async with serving(client):
        assert await client.update_workflow("u-order", "note", ["third"], wait_for="completed") == [
            "first",
            "second",
            "third",
        ]
        await client.update_workflow("u-order", "set_approval", [True], wait_for="completed")
        result = await client.get_workflow_handle("u-order").result(timeout=20.0)
    assert result == {"approved": True, "notes": ["first", "second", "third"]}
    history = await events(client, "u-order")
    names = [e["payload"]["arguments"] for e in of_type(history, "UpdateAccepted")]
    assert names == [e["payload"]["arguments"] for e in of_type(history, "UpdateApplied")]
    assert len(of_type(history, "UpdateCompleted")) == 4


async def test_a_completed_wait_that_times_out_answers_accepted(client: Client) -> None:
    await start(client, "u-slow")
    answer = await client._request_object(  # the raw answer: the SDK method returns only the result
        "POST",
        "/workflows/{workflow_id}/update/{name}",
        path_params={"workflow_id": "u-slow", "name": "note"},
        body={"input": ["x"], "wait_for": "completed", "wait_timeout_seconds": 1},
        operation="update",
    )
    assert answer["update_status"] == "accepted" and answer["wait_timed_out"] is True
    assert answer["wait_for"] == "completed" and answer["outcome"] is None


async def test_validation_after_acceptance_is_update_failed_with_the_validator_message(
    client: Client,
) -> None:
    async with serving(client, ValidatesAfterAcceptance):
        await start(client, "u-late")
        with pytest.raises(InvalidArgument) as failed:
            await client.update_workflow("u-late", "set_approval", ["yes"], wait_for="completed")
        assert failed.value.reason == "update_failed"
        assert "approved must be boolean" in str(failed.value)
        history = await events(client, "u-late")
        assert len(of_type(history, "UpdateAccepted")) == 1
        [completed] = of_type(history, "UpdateCompleted")
        assert completed["payload"]["message"] == "approved must be boolean"
        await client.update_workflow("u-late", "set_approval", [True], wait_for="completed")
        assert (await client.get_workflow_handle("u-late").result(timeout=20.0))["approved"] is True


async def test_closing_a_run_fails_its_open_updates_and_refuses_new_ones(client: Client) -> None:
    await start(client, "u-closed")
    waiting = asyncio.ensure_future(
        client.update_workflow("u-closed", "note", ["never"], wait_for="completed", wait_timeout_seconds=30)
    )
    await recorded(client, "u-closed", "UpdateAccepted")
    await client.terminate_workflow("u-closed", reason="done here")
    with pytest.raises(InvalidArgument) as failed:
        await asyncio.wait_for(waiting, 10.0)
    assert failed.value.reason == "update_failed"
    assert "closed before the update completed" in str(failed.value)
    with pytest.raises(UpdateRejected) as closed:
        await client.update_workflow("u-closed", "note", ["late"])
    assert closed.value.reason == "run_not_active"
