"""Interop program for the official SDK ``durable-workflow==0.4.84`` (run by ``scripts/interop``).

Against our server over a real socket, with 0.4.84 as client and worker: the search-attribute
registry (list, create, refusals, delete), starts with typed search attributes (a wrong-typed
value refused with 422), a 0.4.84 worker upserting an attribute, ``list_workflows`` with a
visibility query and followed page tokens, and the webhook bridge (accepted, a redelivery
answered as a duplicate that starts nothing, a rejected event returned as data). Every step is
checked; the program exits non-zero on the first surprise and prints a summary last.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from durable_workflow import Client, Worker, workflow
from durable_workflow.errors import InvalidArgument, ServerError

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
QUEUE = "interop-search"


@workflow.defn(name="interop-tagged")
class Tagged:
    def run(self, ctx: Any, priority: int) -> Any:
        yield ctx.upsert_search_attributes({"Priority": priority, "Stage": "done"})
        return {"priority": priority}


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"interop_search: {what}", file=sys.stderr)
        sys.exit(1)


def reason_of(exc: Exception) -> str | None:
    body = getattr(exc, "body", None)
    return body.get("reason") if isinstance(body, dict) else None


async def registry(client: Client) -> None:
    listed = await client.list_search_attributes()
    check(listed.system_attributes.get("WorkflowType") == "keyword", f"system attributes: {listed}")
    check(listed.system_attributes.get("StartTime") == "datetime", f"system attributes: {listed}")
    for name, kind in (("Priority", "int"), ("Stage", "keyword"), ("Region", "keyword")):
        created = await client.create_search_attribute(name, kind)
        check(created == {"name": name, "type": kind, "outcome": "created"}, f"create {name}: {created}")
    try:
        await client.create_search_attribute("Priority", "keyword")
        check(False, "a duplicate name was created")
    except ServerError as exc:
        check(exc.status == 409 and reason_of(exc) == "attribute_already_exists", f"duplicate: {exc}")
    try:
        await client.create_search_attribute("WorkflowType", "keyword")
        check(False, "a system name was created")
    except ServerError as exc:
        check(exc.status == 409 and reason_of(exc) == "name_reserved", f"reserved: {exc}")
    try:
        await client.create_search_attribute("Broken", "float")
        check(False, "an unknown type was accepted")
    except InvalidArgument:
        pass
    deleted = await client.delete_search_attribute("Region")
    check(deleted == {"name": "Region", "outcome": "deleted"}, f"delete: {deleted}")
    try:
        await client.delete_search_attribute("Region")
        check(False, "a deleted attribute was deleted again")
    except ServerError as exc:
        check(exc.status == 404 and reason_of(exc) == "attribute_not_found", f"delete unknown: {exc}")
    custom = (await client.list_search_attributes()).custom_attributes
    check(custom == {"Priority": "int", "Stage": "keyword"}, f"custom attributes: {custom}")


async def typed_starts_and_filters(client: Client) -> list[str]:
    try:
        await client.start_workflow(
            workflow_type="interop-tagged", task_queue=QUEUE, workflow_id="interop-sa-bad",
            input=[1], search_attributes={"Priority": "high"},
        )  # fmt: skip
        check(False, "a wrong-typed search attribute was accepted")
    except InvalidArgument as exc:
        check("search_attributes.Priority" in (exc.errors or {}), f"wrong type: {exc.errors}")
    for i in range(5):
        await client.start_workflow(
            workflow_type="interop-tagged", task_queue=QUEUE, workflow_id=f"interop-sa-{i}",
            input=[i], search_attributes={"Stage": "new"},
        )  # fmt: skip
    worker = Worker(client, task_queue=QUEUE, workflows=[Tagged], activities=[])
    for i in range(5):
        result = await worker.run_until(workflow_id=f"interop-sa-{i}", timeout=30.0)
        check(result.output == {"priority": i}, f"interop-sa-{i} returned {result!r}")
    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        page = await client.list_workflows(
            query="Priority >= 2 AND Stage = 'done'", page_size=2, next_page_token=token
        )
        seen += [w.workflow_id for w in page.executions]
        token = page.next_page_token
        if token is None:
            break
    check(seen == ["interop-sa-4", "interop-sa-3", "interop-sa-2"], f"filtered pages: {seen}")
    try:
        await client.list_workflows(query="Nope = 1")
        check(False, "a query on an unregistered attribute was answered")
    except InvalidArgument:
        pass
    return seen


async def bridge(client: Client) -> dict[str, Any]:
    async def deliver() -> Any:
        return await client.send_webhook_bridge_event(
            "stripe",
            action="start_workflow",
            idempotency_key="interop-event-1",
            target={"workflow_type": "interop-tagged", "task_queue": "interop-bridge"},
            input={"order_id": "o-1"},
            correlation={"provider": "stripe", "token": "never echoed"},
        )

    first = await deliver()
    check(first.accepted and first.outcome == "accepted", f"first delivery: {first}")
    check(
        first.control_plane_outcome == "started_new" and first.correlation == {"provider": "stripe"},
        f"{first}",
    )
    again = await deliver()
    check(again.outcome == "duplicate" and not again.accepted, f"redelivery: {again}")
    check((again.workflow_id, again.run_id) == (first.workflow_id, first.run_id), f"redelivery: {again}")
    runs = await client.list_workflow_runs(first.workflow_id)
    check(len(runs.runs) == 1, f"the redelivery started a run: {runs}")
    rejected = await client.send_webhook_bridge_event(
        "stripe",
        action="signal_workflow",
        idempotency_key="interop-event-2",
        target={"workflow_id": "interop-missing", "signal_name": "paid"},
    )
    check(rejected.outcome == "rejected" and rejected.reason == "unknown_target", f"rejected: {rejected}")
    return {"first": first.outcome, "again": again.outcome, "rejected": rejected.reason}


async def main() -> None:
    async with Client(SERVER_URL, token=os.environ.get("DW_AUTH_TOKEN", "dev-token")) as client:
        await registry(client)
        seen = await typed_starts_and_filters(client)
        outcomes = await bridge(client)
    print({"filtered": seen, "bridge": outcomes})


if __name__ == "__main__":
    asyncio.run(main())
