"""The Worker's query-task loop over the fake client: queries, validations and their refusals."""

from __future__ import annotations

import asyncio
from typing import Any

from durable_workflow import activity, workflow
from durable_workflow.protocol import capabilities, codec
from durable_workflow.protocol.wire import QueryTask
from durable_workflow.worker import Worker
from tests.helpers.worker_fakes import GOOD_CLUSTER_INFO, FakeClient

STARTED = [
    {"sequence": 1, "event_type": "StartAccepted", "payload": {}},
    {"sequence": 2, "event_type": "WorkflowStarted", "payload": {}},
]


@workflow.defn(name="counter")
class Counter:
    def __init__(self) -> None:
        self.count = 0

    @workflow.query("count")
    def current(self, plus: int = 0) -> int:
        return self.count + plus

    @workflow.query("broken")
    def broken(self) -> int:
        raise RuntimeError("not today")

    @workflow.update("add")
    def add(self, amount: int) -> int:
        self.count += amount
        return self.count

    @add.validator
    def check_add(self, amount: int) -> None:
        if amount < 0:
            raise ValueError("amount must not be negative")

    def run(self, ctx: Any, start: int) -> Any:
        self.count = start
        yield ctx.start_timer(seconds=60)
        return self.count


def query_task(name: str, args: list[Any] | None, kind: str = "query", task_id: str = "qt-1") -> QueryTask:
    task: dict[str, Any] = {
        "query_task_id": task_id,
        "query_task_attempt": 1,
        "query_task_kind": kind,
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "counter",
        "task_queue": "default",
        "query_name": name,
        "payload_codec": "avro",
        "workflow_arguments": codec.envelope([5]),
        "query_arguments": codec.envelope(args) if args is not None else {"codec": None, "blob": None},
        "history_events": STARTED,
        "lease_owner": "w-1",
    }
    return task  # type: ignore[return-value]


async def answered(client: FakeClient, *tasks: QueryTask) -> list[tuple[str, dict[str, Any]]]:
    worker = Worker(client, task_queue="default", workflows=[Counter], worker_id="w-1")
    runner = asyncio.create_task(worker.run())
    for task in tasks:
        client.add_query_task(task)

    def answers() -> list[tuple[str, dict[str, Any]]]:
        return [(n, kw) for n, kw in client.calls if n in ("complete_query_task", "fail_query_task")]

    await client.until(lambda: len(answers()) == len(tasks))
    await worker.stop()
    await runner
    return answers()


async def test_a_query_task_is_answered_from_the_replayed_state() -> None:
    client = FakeClient()
    [(call, answer)] = await answered(client, query_task("count", [2]))
    assert call == "complete_query_task" and answer["result"] == 7
    (registered,) = client.calls_to("register_worker")
    assert registered["capabilities"] == [
        capabilities.WORKER_CONDITION_WAIT_IDS,
        capabilities.WORKER_QUERY_TASKS,
        capabilities.WORKER_UPDATE_VALIDATION,
    ]


async def test_unknown_and_raising_queries_are_refused_with_their_reasons() -> None:
    client = FakeClient()
    answers = await answered(
        client, query_task("nope", None, task_id="qt-1"), query_task("broken", None, task_id="qt-2")
    )
    by_id = {kw["query_task_id"]: (call, kw) for call, kw in answers}
    assert by_id["qt-1"][0] == "fail_query_task" and by_id["qt-1"][1]["reason"] == "rejected_unknown_query"
    assert "nope" in by_id["qt-1"][1]["message"]
    assert by_id["qt-2"][1]["reason"] == "query_rejected"
    assert "not today" in by_id["qt-2"][1]["message"]


async def test_update_validation_tasks_run_the_validator_only() -> None:
    client = FakeClient()
    answers = await answered(
        client,
        query_task("add", [3], kind="update_validation", task_id="ok"),
        query_task("add", [-1], kind="update_validation", task_id="refused"),
        query_task("missing", [1], kind="update_validation", task_id="unknown"),
    )
    by_id = {kw["query_task_id"]: (call, kw) for call, kw in answers}
    assert by_id["ok"] == ("complete_query_task", by_id["ok"][1]) and by_id["ok"][1]["result"] == {
        "accepted": True
    }
    assert by_id["refused"][1]["reason"] == "update_rejected"
    assert by_id["refused"][1]["message"] == "amount must not be negative"
    assert by_id["unknown"][1]["reason"] == "unknown_update"


async def test_no_query_poller_without_the_server_capability() -> None:
    info = {**GOOD_CLUSTER_INFO, "worker_protocol": {**GOOD_CLUSTER_INFO["worker_protocol"]}}
    info["worker_protocol"]["server_capabilities"] = {"long_poll_timeout": 30, "query_tasks": False}
    client = FakeClient(cluster_info=info)
    worker = Worker(client, task_queue="default", workflows=[Counter])
    runner = asyncio.create_task(worker.run())
    await client.until(lambda: client.calls_to("register_worker"))
    client.add_query_task(query_task("count", None))
    # Several polls of workflow tasks: every poller has had its turns by then.
    await client.until_calls("poll_workflow_task", count=3)
    await worker.stop()
    await runner
    assert client.calls_to("register_worker")[0]["capabilities"] == [capabilities.WORKER_CONDITION_WAIT_IDS]
    assert client.calls_to("poll_query_task") == []
    assert client.query_tasks  # never polled


@activity.defn(name="noop")
async def noop() -> None:
    return None


async def test_an_activity_only_worker_neither_promises_nor_polls_query_tasks() -> None:
    client = FakeClient()
    worker = Worker(client, task_queue="default", activities=[noop])
    runner = asyncio.create_task(worker.run())
    client.add_query_task(query_task("count", None))
    await client.until_calls("poll_activity_task", count=3)
    await worker.stop()
    await runner
    registered = client.calls_to("register_worker")[0]
    assert registered["capabilities"] == [capabilities.WORKER_CONDITION_WAIT_IDS]
    assert registered["supported_workflow_types"] == []
    assert client.calls_to("poll_query_task") == []
