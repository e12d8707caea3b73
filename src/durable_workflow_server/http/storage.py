"""The external-storage round-trip test, admin only (control-plane.md §8.2)."""

from __future__ import annotations

from durable_workflow.protocol import routes

from . import guards
from .models.storage import StorageTestBody
from .routing import Call, Operation, Reply, copy_reply, engine_call


async def test_external_storage(call: Call[StorageTestBody]) -> Reply:
    body = await engine_call(call.engine.test_external_storage(call.namespace, call.input.request()))
    return copy_reply(body)


OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        routes.STORAGE_TEST,
        "test_external_storage",
        test_external_storage,
        body=StorageTestBody,
        summary="Write, read back, verify and delete a small and a large payload through the "
        "namespace's external storage driver.",
        roles=guards.ADMIN_ROLES,
    ),
]
