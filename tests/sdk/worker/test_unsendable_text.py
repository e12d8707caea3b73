"""Failure text that UTF-8 cannot hold is reported with the bad characters replaced.

``os.fsdecode`` turns a non-UTF-8 file name into a string with lone surrogates; an exception
quoting it used to make the failure report itself raise ``UnicodeEncodeError``, so the attempt
was never reported and waited for its lease to expire. The worker runs here on the real
``Client`` over a scripted HTTP transport, so the bytes on the wire are the ones checked.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest

from durable_workflow import Client, Worker, activity
from durable_workflow.errors import PayloadError
from durable_workflow.protocol import codec
from durable_workflow.protocol.text import replace_surrogates
from durable_workflow.workflow import FailUpdate, FailWorkflow
from tests.helpers.worker_fakes import GOOD_CLUSTER_INFO

BAD_NAME = os.fsdecode(b"caf\xe9.txt")  # 'caf\udce9.txt' on a UTF-8 file system


@activity.defn(name="open-file")
async def open_file(path: str) -> str:
    raise FileNotFoundError(f"cannot open {BAD_NAME} under {path}")


class ScriptedServer:
    """Answers the calls of one worker: a single activity task, then polls that hold."""

    def __init__(self) -> None:
        self.failure_bodies: list[bytes] = []
        self.reported = asyncio.Event()
        self._handed_out = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/cluster/info":
            return httpx.Response(200, json=GOOD_CLUSTER_INFO)
        if path == "/api/worker/register":
            return httpx.Response(201, json={"worker_id": "w1", "registered": True})
        if path == "/api/worker/activity-tasks/poll":
            if not self._handed_out:
                self._handed_out = True
                return httpx.Response(200, json={"task": _activity_task()})
            # Hold the poll, like a server with nothing to hand out; stop() cancels it.
            await asyncio.Event().wait()
            return httpx.Response(200, json={"task": None})
        if path == "/api/worker/activity-tasks/at-1/fail":
            self.failure_bodies.append(request.content)
            self.reported.set()
            return httpx.Response(200, json={"outcome": "failed"})
        return httpx.Response(404, json={"message": f"unexpected {path}"})


def _activity_task() -> dict[str, Any]:
    return {
        "task_id": "at-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "activity_execution_id": "ae-1",
        "activity_attempt_id": "att-1",
        "attempt_number": 1,
        "activity_type": "open-file",
        "payload_codec": "avro",
        "arguments": codec.envelope(["/data"]),
        "task_queue": "default",
        "lease_owner": "w1",
    }


async def test_an_activity_failure_quoting_an_undecodable_file_name_is_reported() -> None:
    server = ScriptedServer()
    async with Client("http://dw.test", transport=httpx.MockTransport(server)) as client:
        worker = Worker(client, task_queue="default", activities=[open_file], worker_id="w1")
        running = asyncio.create_task(worker.run())
        await asyncio.wait_for(server.reported.wait(), timeout=10)
        await worker.stop()
        await running

    assert len(server.failure_bodies) == 1
    failure = json.loads(server.failure_bodies[0].decode("utf-8"))["failure"]
    assert failure["message"] == "cannot open caf\ufffd.txt under /data"
    assert failure["type"] == "FileNotFoundError"
    assert "cannot open caf\ufffd.txt" in failure["stack_trace"]
    assert replace_surrogates(failure["stack_trace"]) == failure["stack_trace"]


async def test_workflow_task_and_query_failures_are_cleaned(fake: Any, make_client: Any) -> None:
    client = make_client()
    fake.reply(200, {"outcome": "failed"})
    await client.fail_workflow_task(
        task_id="wt-1",
        lease_owner="w1",
        workflow_task_attempt=1,
        message=f"replay failed: {BAD_NAME}",
        failure_type="Err\udc80",
        stack_trace=f"Traceback: {BAD_NAME}",
    )
    assert fake.body_of(fake.last)["failure"] == {
        "message": "replay failed: caf\ufffd.txt",
        "type": "Err\ufffd",
        "stack_trace": "Traceback: caf\ufffd.txt",
    }
    fake.reply(200, {"outcome": "failed"})
    await client.fail_query_task(
        query_task_id="qt-1", lease_owner="w1", query_task_attempt=1, message=BAD_NAME, reason="boom"
    )
    assert fake.body_of(fake.last)["failure"] == {"message": "caf\ufffd.txt", "reason": "boom"}


async def test_a_heartbeat_message_is_cleaned(fake: Any, make_client: Any) -> None:
    client = make_client()
    fake.reply(200, {"cancel_requested": False})
    await client.heartbeat_activity_task(
        task_id="at-1", activity_attempt_id="att-1", lease_owner="w1", message=f"reading {BAD_NAME}"
    )
    assert fake.body_of(fake.last)["message"] == "reading caf\ufffd.txt"


def test_workflow_and_update_failure_commands_are_cleaned() -> None:
    assert FailWorkflow(message=BAD_NAME, exception_type="E\udcff").to_wire() == {
        "type": "fail_workflow",
        "message": "caf\ufffd.txt",
        "exception_type": "E\ufffd",
    }
    wire = FailUpdate(update_id="u1", message=BAD_NAME).to_wire()
    assert wire["message"] == "caf\ufffd.txt"


async def test_an_identifier_with_a_surrogate_is_a_payload_error_not_a_unicode_crash(
    fake: Any, make_client: Any
) -> None:
    client = make_client()
    with pytest.raises(PayloadError, match="not valid Unicode"):
        await client.heartbeat_worker(worker_id=BAD_NAME)
    assert fake.requests == []


def test_a_payload_with_a_surrogate_is_a_codec_error() -> None:
    with pytest.raises(codec.PayloadCodecError, match="not JSON-encodable"):
        codec.encode({"name": BAD_NAME})


def test_clean_text_is_returned_unchanged() -> None:
    for text in ("", "plain", "caf\u00e9 \u2603 \U0001f600"):
        assert replace_surrogates(text) is text
