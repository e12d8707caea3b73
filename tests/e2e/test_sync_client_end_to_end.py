"""The blocking client against the real server over a real socket: called from a thread whose
event loop is running (a Jupyter notebook cell), handles included, and the docs' "Synchronous
Client" example as written."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from durable_workflow import Client, Worker, WorkflowNotFound, activity, workflow
from durable_workflow.sync import Client as SyncClient
from durable_workflow.sync import WorkflowHandle as SyncWorkflowHandle
from tests.helpers.e2e_env import TOKEN, e2e_settings
from tests.helpers.socket_server import serving

QUEUE = "sync-e2e"


@activity.defn(name="sync_greet")
async def greet(name: str) -> dict[str, Any]:
    return {"greeting": f"Hello, {name}!"}


@workflow.defn(name="sync_greeter")
class SyncGreeter:
    def run(self, ctx, *args):  # type: ignore[no-untyped-def]
        result = yield ctx.schedule_activity("sync_greet", list(args))
        return result


def work_in_a_thread(url: str, workflow_id: str) -> tuple[threading.Thread, list[BaseException]]:
    """A worker on its own loop and thread, until ``workflow_id`` closes (the caller's loop is blocked)."""
    errors: list[BaseException] = []

    async def work() -> None:
        async with Client(url, token=TOKEN) as client:
            worker = Worker(client, task_queue=QUEUE, workflows=[SyncGreeter], activities=[greet])
            await worker.run_until(workflow_id=workflow_id, timeout=30.0, poll_interval=0.05)

    def target() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:  # re-raised by the test
            errors.append(exc)

    thread = threading.Thread(target=target, name="sync-e2e-worker")
    thread.start()
    return thread, errors


async def test_the_sync_client_works_where_an_event_loop_is_running(database_url: str) -> None:
    assert asyncio.get_running_loop().is_running()  # as in a notebook cell
    with serving(e2e_settings(database_url)) as url, SyncClient(url, token=TOKEN) as client:
        handle = client.start_workflow(
            workflow_type="sync_greeter", task_queue=QUEUE, workflow_id="sync-loop-1", input=["world"]
        )
        assert isinstance(handle, SyncWorkflowHandle) and handle.workflow_id == "sync-loop-1"
        worker, errors = work_in_a_thread(url, "sync-loop-1")
        try:
            assert handle.result(poll_interval=0.05, timeout=30.0) == {"greeting": "Hello, world!"}
        finally:
            worker.join(60)
        assert errors == []
        assert client.describe_workflow("sync-loop-1").status == "completed"
        assert handle.describe().status == "completed"
        assert [run.run_id for run in handle.list_runs()] == [handle.run_id]
        assert client.get_workflow_handle("sync-loop-1").describe().output == {"greeting": "Hello, world!"}
        assert client.create_namespace("notebook").name == "notebook"
        assert client.list_namespaces().names == ["default", "notebook"]
        with pytest.raises(WorkflowNotFound):
            client.describe_workflow("nobody")


# -- the docs' example, as written (the one change: where the server listens) -------------------
DOCS_EXAMPLE = """
from durable_workflow.sync import Client as SyncClient

client = SyncClient("http://localhost:8080", token="secret")

handle = client.start_workflow(
    workflow_type="greeter",
    task_queue="default",
    workflow_id="sync-greeting-1",
    input=["world"],
)

execution = client.describe_workflow("sync-greeting-1")
print(execution.status)
"""


def run_docs_example(url: str) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    exec(compile(DOCS_EXAMPLE.replace("http://localhost:8080", url), "docs-sync-example", "exec"), scope)
    return scope


@pytest.mark.parametrize("where", ["a plain script", "a running event loop"])
def test_the_docs_synchronous_client_example_runs_as_written(
    database_url: str, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    with serving(e2e_settings(database_url, auth_token="secret")) as url:
        if where == "a plain script":
            scope = run_docs_example(url)
        else:

            async def cell() -> dict[str, Any]:
                return run_docs_example(url)

            scope = asyncio.run(cell())
        try:
            assert capsys.readouterr().out == "pending\n"  # no worker polls the queue: not started yet
            assert scope["handle"].workflow_id == "sync-greeting-1"
            assert scope["execution"].workflow_type == "greeter"
        finally:
            scope["client"].close()
