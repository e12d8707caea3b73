"""Interop program for the official SDK ``durable-workflow==0.4.84`` (run by ``scripts/interop``).

The official SDK manages namespaces on our server over a real socket: create, a duplicate create
(refused), list, describe, update (only the given field changes), the external-storage policy,
a workflow started in the new namespace, delete (with its counts), and describing the deleted
namespace (``NamespaceNotFound``). The program checks every answer and exits non-zero otherwise;
its last line is the summary ``scripts/interop`` compares.

Only the 0.4.84 API is used, so nothing of this repository is imported.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from durable_workflow import Client
from durable_workflow.errors import DurableWorkflowError, NamespaceNotFound

SERVER_URL = os.environ.get("DURABLE_WORKFLOW_SERVER_URL", "http://localhost:8080")
TOKEN = os.environ.get("DW_AUTH_TOKEN", "dev-token")


def fail(message: str) -> None:
    print(f"interop namespaces: {message}", file=sys.stderr)
    raise SystemExit(1)


def check(what: str, got: Any, want: Any) -> None:
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


async def main() -> None:
    async with Client(SERVER_URL, token=TOKEN, namespace="default") as client:
        created = await client.create_namespace("interop-billing", description="Billing", retention_days=90)
        check(
            "create",
            (created.name, created.description, created.retention_days, created.status),
            ("interop-billing", "Billing", 90, "active"),
        )
        try:
            await client.create_namespace("interop-billing")
        except DurableWorkflowError as exc:  # 0.4.84 raises ServerError for the 409
            print("duplicate create refused:", type(exc).__name__)
        else:
            fail("a duplicate create was accepted")

        names = [namespace.name for namespace in (await client.list_namespaces()).namespaces]
        check("list", names, ["default", "interop-billing"])

        updated = await client.update_namespace("interop-billing", retention_days=120)
        check("update", (updated.description, updated.retention_days), ("Billing", 120))
        described = await client.describe_namespace("interop-billing")
        check("describe", (described.description, described.retention_days), ("Billing", 120))

        stored = await client.set_namespace_external_storage(
            "interop-billing", driver="s3", threshold_bytes=65536, config={"disk": "objects", "bucket": "dw"}
        )
        policy = stored.external_payload_storage  # 0.4.84: an ExternalPayloadStoragePolicy object
        if policy is None:
            fail("the external-storage answer has no policy")
        check(
            "external storage", (policy.driver, policy.enabled, policy.threshold_bytes), ("s3", True, 65536)
        )
        check("external storage config", dict(policy.config), {"disk": "objects", "bucket": "dw"})

        async with Client(SERVER_URL, token=TOKEN, namespace="interop-billing") as tenant:
            await tenant.start_workflow(
                workflow_type="greeter", task_queue="interop-ns", workflow_id="interop-ns-1", input=["x"]
            )

        deleted = await client.delete_namespace("interop-billing")
        check(
            "delete",
            (deleted.name, deleted.status, deleted.deleted.get("workflow_runs")),
            ("interop-billing", "deleted", 1),
        )
        try:
            await client.describe_namespace("interop-billing")
        except NamespaceNotFound:
            pass
        else:
            fail("the deleted namespace is still described")
        names = [namespace.name for namespace in (await client.list_namespaces()).namespaces]
        print({"namespaces": names, "deleted_runs": deleted.deleted.get("workflow_runs")})


asyncio.run(main())
