"""Interop program for the official SDK ``durable-workflow==0.4.84`` (run by ``scripts/interop``).

External payload storage with the official SDK as admin client, client and worker, against our
server over a real socket: it sets the namespace's ``local`` policy (64 KiB threshold, a
temporary directory both sides reach), runs the server's storage test, then a workflow whose
1 MiB input the 0.4.84 client uploads itself and sends as a reference. The server fetches and
verifies it and keeps its own copy by reference; the 0.4.84 worker resolves the reference in its
task, an activity measures the value, the workflow returns it, the server offloads that result
too and the 0.4.84 client resolves it. The program checks the storage test's answer, that the
history holds references (not the bytes), and the result; it exits non-zero otherwise.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.external_storage import LocalFilesystemExternalStorage

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
TOKEN = os.environ.get("DW_AUTH_TOKEN", "dev-token")
QUEUE = "interop-external-storage"
THRESHOLD = 64 * 1024
DOCUMENT = "".join(f"row {i:06d}\n" for i in range(100_000))[: 1024 * 1024]


@activity.defn(name="interop_measure")
async def measure(document: str) -> dict:
    return {"length": len(document), "sha256": hashlib.sha256(document.encode()).hexdigest()}


@workflow.defn(name="interop-large-document")
class LargeDocument:
    def run(self, ctx, document):
        measured = yield ctx.schedule_activity("interop_measure", [document])
        return {"document": document, "measured": measured}


def fail(message: str) -> None:
    print(f"interop external storage: {message}", file=sys.stderr)
    raise SystemExit(1)


def reference_of(value: Any, where: str) -> dict:
    if not (isinstance(value, dict) and set(value) == {"codec", "external_storage"}):
        fail(f"{where} is not a reference: {str(value)[:200]}")
    return value["external_storage"]


async def raw_history(workflow_id: str, run_id: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    url = f"{SERVER_URL}/api/workflows/{workflow_id}/runs/{run_id}/history"
    async with httpx.AsyncClient() as http:
        response = await http.get(url, headers=headers, params={"page_size": 1000})
    return len(response.content), response.json()


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="dw-interop-payloads-"))
    storage = LocalFilesystemExternalStorage(root)
    workflow_id = f"interop-large-document-{os.getpid()}"
    async with Client(
        SERVER_URL,
        token=TOKEN,
        namespace="default",
        external_storage=storage,
        external_storage_threshold_bytes=THRESHOLD,
    ) as client:
        described = await client.set_namespace_external_storage(
            "default", driver="local", enabled=True, threshold_bytes=THRESHOLD, config={"uri": root.as_uri()}
        )
        policy = described.external_payload_storage
        if policy is None or policy.driver != "local" or policy.threshold_bytes != THRESHOLD:
            fail(f"the namespace policy was not stored: {policy!r}")

        test = await client.test_external_storage(
            small_payload_bytes=128, large_payload_bytes=3 * 1024 * 1024
        )
        large = test.large_payload
        if test.status != "passed" or large is None or large.bytes != 3 * 1024 * 1024:
            fail(f"the storage test answered {test.raw!r}")
        if large.sha256 != hashlib.sha256(b"l" * (3 * 1024 * 1024)).hexdigest():
            fail(f"the storage test reported another digest: {large.sha256}")
        print("storage test:", test.status, test.driver, large.bytes, "bytes")

        worker = Worker(
            client, task_queue=QUEUE, workflows=[LargeDocument], activities=[measure], poll_timeout=5.0
        )
        running = asyncio.create_task(worker.run())
        try:
            handle = await client.start_workflow(
                workflow_type="interop-large-document",
                task_queue=QUEUE,
                workflow_id=workflow_id,
                input=[DOCUMENT],
            )
            result = await handle.result(timeout=60.0)
        finally:
            await worker.stop()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

        expected = {"length": len(DOCUMENT), "sha256": hashlib.sha256(DOCUMENT.encode()).hexdigest()}
        if result.get("measured") != expected:
            fail(f"the activity measured {result.get('measured')!r}, expected {expected!r}")
        if result.get("document") != DOCUMENT:
            fail("the workflow result is not the document it was given")

        size, page = await raw_history(workflow_id, handle.run_id)
        events = {e["event_type"]: e["payload"] for e in page.get("events", [])}
        started = reference_of(
            events.get("WorkflowStarted", {}).get("arguments"), "WorkflowStarted.arguments"
        )
        output = reference_of(events.get("WorkflowCompleted", {}).get("output"), "WorkflowCompleted.output")
        if size > THRESHOLD:
            fail(f"the history page is {size} bytes: it carries the payloads, not references")
        if not (started["uri"].startswith(root.as_uri()) and output["uri"].startswith(root.as_uri())):
            fail(f"the references point outside the namespace's storage: {started['uri']}, {output['uri']}")
        print(
            "history keeps references:",
            json.dumps({"input": started["size_bytes"], "output": output["size_bytes"]}),
        )
        print(
            {"storage_test": test.status, "measured_length": result["measured"]["length"], "round_trip": True}
        )


asyncio.run(main())
