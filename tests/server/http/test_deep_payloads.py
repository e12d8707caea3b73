"""A payload blob holding JSON nested deeper than the interpreter's stack (found by the fuzz tier).

The blob is a few hundred kilobytes of ``[`` inside a valid generic-wrapper frame: the body
itself is flat, so the body's depth limit never sees it, and decoding it used to escape as a
``RecursionError`` (500) from start, signal and update. It is bad framing like any other
undecodable blob: 422 on the field, nothing written, and the server carries on.
"""

from __future__ import annotations

import base64
import io
import json

import fastavro
import pytest

from durable_workflow.protocol import codec
from tests.helpers.live_app import CONTROL, WORKER, Live, snapshot

DEPTH = 100_000


def deep_blob(depth: int = DEPTH) -> str:
    schema = fastavro.parse_schema(json.loads(codec.GENERIC_WRAPPER_SCHEMA_JSON))
    frame = io.BytesIO(codec.GENERIC_WRAPPER_PREFIX)
    frame.seek(0, io.SEEK_END)
    fastavro.schemaless_writer(frame, schema, {"json": "[" * depth + "]" * depth, "version": 1})
    return base64.b64encode(frame.getvalue()).decode("ascii")


DEEP = {"codec": "avro", "blob": deep_blob()}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/workflows", {"workflow_type": "greeter", "task_queue": "q", "input": DEEP}),
        ("/api/workflows/wf-1/signal/go", {"input": DEEP}),
        ("/api/workflows/wf-1/update/u", {"input": DEEP, "wait_for": "accepted"}),
    ],
    ids=["start", "signal", "update"],
)
async def test_a_deeply_nested_payload_is_422_on_its_field_and_writes_nothing(
    live: Live, path: str, body: dict[str, object]
) -> None:
    before = await snapshot(live.db_url)
    response = await live.http.post(path, json=body, headers=CONTROL)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["reason"] == "validation_failed"
    assert "nested too deeply" in answer["errors"]["input.blob"][0]
    assert await snapshot(live.db_url) == before
    # The server is unharmed: the leased workflow task still completes.
    done = await live.http.post(
        f"/api/worker/workflow-tasks/{live.task_id}/complete",
        json={**live.fence, "commands": [{"type": "complete_workflow", "result": None}]},
        headers=WORKER,
    )
    assert done.status_code == 200, done.text
