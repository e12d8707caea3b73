"""Helpers for external payload storage tests: a namespace policy written straight to the table.

Engine tests set the policy the way ``PUT /namespaces/{ns}/external-storage`` persists it (the
JSON column), without going through the namespaces noun; end-to-end tests use the SDK method.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import LocalFilesystemExternalStorage
from durable_workflow_server.engine.namespaces import rows as namespace_rows
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t


async def set_policy(engine: Engine, namespace: str, policy: dict[str, Any] | None) -> None:
    """Create ``namespace`` if needed and store ``policy`` as its external storage policy."""
    async with engine._tx() as tx:
        await namespace_rows.ensure(tx, {namespace})
        await tx.conn.execute(
            sa.update(t.namespaces)
            .where(t.namespaces.c.name == namespace)
            .values(external_payload_storage=policy, updated_at=tx.now)
        )
        tx.namespaces_changed = True


def local_policy(root: Path, threshold_bytes: int | None = 1024, **extra: Any) -> dict[str, Any]:
    policy: dict[str, Any] = {"driver": "local", "enabled": True, "config": {"uri": root.as_uri()}}
    if threshold_bytes is not None:
        policy["threshold_bytes"] = threshold_bytes
    policy.update(extra)
    return policy


def stored_files(root: Path) -> list[Path]:
    """The payload objects under ``root`` (temporary files of a write in progress excluded)."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))


def blob_of(value: Any) -> str:
    return codec.envelope(value)["blob"]


def object_text(root: Path, uri: str) -> str:
    return LocalFilesystemExternalStorage(root).get(uri).decode("utf-8")
