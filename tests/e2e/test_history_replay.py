"""A real run on the in-process server, its history exported and replayed from a JSON file;
then the workflow code changes and the replay explains the non-determinism."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import durable_workflow
from durable_workflow import Client, Replayer, Worker, activity, workflow
from durable_workflow.errors import NonDeterministicReplayError
from durable_workflow.protocol import codec
from durable_workflow.testing import replay_history_file
from durable_workflow.workflow import CompleteWorkflow

TASK_QUEUE = "replay-e2e"
E2E_TOKEN = "e2e-token"  # the token of tests/e2e/conftest.py's in-process server


def in_process_client(app: Any) -> Client:
    return Client("http://testserver", token=E2E_TOKEN, transport=httpx.ASGITransport(app=app))


@activity.defn(name="validate_order")
async def validate_order(order_id: str) -> dict[str, Any]:
    return {"order": order_id, "valid": True}


# Results the server has accepted from activity completions, by value (see ResultWatch).
accepted: dict[Any, asyncio.Event] = {}


def accepted_event(result: Any) -> asyncio.Event:
    return accepted.setdefault(result, asyncio.Event())


class ResultWatch(httpx.AsyncBaseTransport):
    """The in-process app, plus an event per activity result the server has accepted."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path = request.url.path
        completion = path.startswith("/api/worker/activity-tasks/") and path.endswith("/complete")
        if completion and response.status_code < 300:
            accepted_event(codec.decode_payload(json.loads(request.content)["result"])).set()
        return response


def line_price(index: int) -> int:
    return (index + 1) * 10


@activity.defn(name="price_line")
async def price_line(index: int) -> int:
    # Later lines finish first, so the fan-out completes in reverse order: each line returns
    # once the server has accepted the next line's result. The wait is bounded so that a
    # worker running the lines one at a time fails the order assertion instead of hanging.
    if index < 2:
        try:
            await asyncio.wait_for(accepted_event(line_price(index + 1)).wait(), timeout=5.0)
        except asyncio.TimeoutError:
            pass
    return line_price(index)


@activity.defn(name="process_payment")
async def process_payment(total: int) -> dict[str, Any]:
    return {"charged": total}


@workflow.defn(name="order")
class OrderWorkflow:
    def run(self, ctx: Any, order_id: str) -> Any:
        validated = yield ctx.schedule_activity("validate_order", [order_id])
        prices = yield [ctx.schedule_activity("price_line", [i]) for i in range(3)]
        note = yield ctx.side_effect(lambda: "captured once")
        receipt = yield ctx.schedule_activity("process_payment", [sum(prices)])
        return {"validated": validated, "prices": prices, "note": note, "receipt": receipt}


async def run_order(app: Any, client: Client, workflow_id: str) -> tuple[Any, str]:
    accepted.clear()
    handle = await client.start_workflow(
        workflow_type="order", task_queue=TASK_QUEUE, workflow_id=workflow_id, input=[workflow_id]
    )
    async with Client("http://testserver", token=E2E_TOKEN, transport=ResultWatch(app)) as worker_client:
        worker = Worker(
            worker_client,
            task_queue=TASK_QUEUE,
            workflows=[OrderWorkflow],
            activities=[validate_order, price_line, process_payment],
        )
        await worker.run_until(workflow_id=workflow_id, timeout=30.0)
    result = await handle.result(timeout=10.0)
    run_id = (await client.describe_workflow(workflow_id)).run_id
    assert run_id
    return result, run_id


async def full_history(client: Client, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = await client.get_history(workflow_id, run_id, page_size=5, next_page_token=token)
        events.extend(page["events"])
        token = page.get("next_page_token")
        if not token:
            return events


EXPECTED = {
    "validated": {"order": "order-7", "valid": True},
    "prices": [10, 20, 30],  # in the order yielded, though they completed in reverse
    "note": "captured once",
    "receipt": {"charged": 60},
}


async def test_server_history_replays_from_a_file_and_explains_a_code_change(
    app: Any, client: Client, tmp_path: Path
) -> None:
    result, run_id = await run_order(app, client, "order-7")
    assert result == EXPECTED

    events = await full_history(client, "order-7", run_id)
    completions = [e["payload"]["sequence"] for e in events if e["event_type"] == "ActivityCompleted"]
    assert completions[1:4] == sorted(completions[1:4], reverse=True)  # really out of order

    path = tmp_path / "order-7.json"
    path.write_text(json.dumps({"workflow_id": "order-7", "run_id": run_id, "events": events}))
    # Input, run id and codec come from the recorded WorkflowStarted.
    assert replay_history_file(OrderWorkflow, path) == [CompleteWorkflow(EXPECTED)]

    # The export bundle replays too (events under history_events, "type" instead of "event_type").
    bundle = await client.export_history("order-7", run_id)
    assert Replayer(workflows=[OrderWorkflow]).replay(bundle).commands == [CompleteWorkflow(EXPECTED)]

    # Someone "simplifies" the workflow: pricing now happens after the payment.
    @workflow.defn(name="order")
    class ChangedOrderWorkflow:
        def run(self, ctx: Any, order_id: str) -> Any:
            validated = yield ctx.schedule_activity("validate_order", [order_id])
            receipt = yield ctx.schedule_activity("process_payment", [0])  # MOVED-UP
            prices = yield [ctx.schedule_activity("price_line", [i]) for i in range(3)]
            return {"validated": validated, "prices": prices, "receipt": receipt}

    with pytest.raises(NonDeterministicReplayError) as info:
        replay_history_file(ChangedOrderWorkflow, path)
    message = str(info.value)
    scheduled = [e for e in events if e["event_type"] == "ActivityScheduled"]
    price_sequence = scheduled[1]["payload"]["sequence"]
    lines, first = inspect.getsourcelines(ChangedOrderWorkflow.run)
    moved_line = first + next(i for i, text in enumerate(lines) if "MOVED-UP" in text)
    assert message.splitlines()[:4] == [
        f"workflow 'order' (run {run_id}) is not deterministic at step #2:",
        f"  history recorded: ActivityScheduled 'price_line' (sequence {price_sequence})",
        "  the code now yields: schedule_activity 'process_payment'",
        f"  at {__file__}:{moved_line}, in run: "
        'receipt = yield ctx.schedule_activity("process_payment", [0])  # MOVED-UP',
    ]


DOCS_SNIPPET = """\
from durable_workflow import Client
from durable_workflow.testing import replay_history

async with Client("http://localhost:8080") as client:
    history = await client.get_history("order-42", run_id="...")

replay_history(OrderWorkflow, history["events"], start_input=["order-42"])
"""


async def test_docs_replay_snippet_against_the_server(
    app: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, run_id = await run_order(app, client, "order-42")
    # The snippet runs as printed, except for the "..." placeholder, which we fill in, and
    # Client, which talks to the in-process server instead of localhost:8080.
    monkeypatch.setattr(durable_workflow, "Client", lambda url: in_process_client(app))
    code = compile(
        DOCS_SNIPPET.replace('run_id="..."', f'run_id="{run_id}"'),
        "<docs>",
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
    )
    namespace: dict[str, Any] = {"OrderWorkflow": OrderWorkflow}
    pending = eval(code, namespace)
    if pending is not None:
        await pending
    assert namespace["history"]["events"][0]["event_type"] == "StartAccepted"
