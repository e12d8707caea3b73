"""The ``Engine`` mixin implementing :class:`.api.NamespaceAPI`."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa

from durable_workflow.protocol import errors as reasons

from ...store.rows import NamespaceRow
from ...store.statuses import NamespaceStatus
from ..core import EngineCore
from ..errors import DomainError
from ..transaction import Tx
from ..util import rfc3339
from . import deletion, policy, rows
from .api import CreateNamespaceRequest, ExternalStoragePolicyRequest, UpdateNamespaceRequest
from .shapes import NamespaceBody, NamespaceDeletedBody, NamespaceListBody

DELETED = "deleted"  # the status a delete answers; the row itself is gone


def namespace_body(row: NamespaceRow) -> NamespaceBody:
    """The wire shape of one namespace (the superset of every answer of §8.1)."""
    return {
        "name": row["name"],
        "description": row["description"],
        "retention_days": row["retention_days"],
        "status": row["status"],
        "external_payload_storage": policy.stored(row["external_payload_storage"]),
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
    }


def not_found(name: str) -> DomainError:
    return DomainError(reasons.NAMESPACE_NOT_FOUND, f"Namespace '{name}' does not exist.", namespace=name)


def already_exists(name: str) -> DomainError:
    return DomainError(
        reasons.NAMESPACE_ALREADY_EXISTS, f"Namespace '{name}' already exists.", namespace=name
    )


class NamespaceCommands(EngineCore):
    """Namespaces: list, describe, create, update, delete; the external-storage policy."""

    async def _existing(
        self, tx: Tx, name: str, *, lock: Literal["change", "delete"] | None = None
    ) -> NamespaceRow:
        row = await rows.get(tx, name.lower(), lock=lock)
        if row is None:
            raise rows.not_found(name.lower())
        return row

    async def list_namespaces(self, visible: frozenset[str] | None = None) -> NamespaceListBody:
        async with self._read() as tx:
            found = await rows.all_rows(tx)
        return {
            "namespaces": [namespace_body(row) for row in found if visible is None or row["name"] in visible]
        }

    async def describe_namespace(self, name: str) -> NamespaceBody:
        async with self._read() as tx:
            return namespace_body(await self._existing(tx, name))

    async def create_namespace(self, request: CreateNamespaceRequest) -> NamespaceBody:
        name = request.name.lower()
        retention = request.retention_days
        async for txn in self._tx():
            async with txn as tx:
                if await rows.get(tx, name) is not None:
                    raise already_exists(name)
                # Rows a write left under this name after an earlier delete (none, by require()'s
                # lock, but a new namespace must never show a previous tenant's data whatever happened).
                await deletion.delete_namespace_rows(tx, name)
                row: NamespaceRow = {
                    "name": name,
                    "description": request.description,
                    "retention_days": self.settings.history_retention_days
                    if retention is None
                    else retention,
                    "status": NamespaceStatus.ACTIVE,
                    "external_payload_storage": None,
                    "created_at": tx.now,
                    "updated_at": tx.now,
                }
                try:
                    await tx.conn.execute(rows.INSERT, dict(row))
                except sa.exc.IntegrityError as exc:
                    # Two creates raced past the check: the primary key refused the second insert.
                    raise already_exists(name) from exc
                tx.namespaces_changed = True
        return namespace_body(row)

    async def update_namespace(self, name: str, request: UpdateNamespaceRequest) -> NamespaceBody:
        async for txn in self._tx():
            async with txn as tx:
                row = await self._existing(tx, name, lock="change")
                changes: dict[str, object] = {"updated_at": tx.now}
                if request.description is not None:
                    changes["description"] = request.description
                if request.retention_days is not None:
                    changes["retention_days"] = request.retention_days
                await tx.conn.execute(rows.UPDATE, {"b_name": row["name"], **changes})
                updated = await self._existing(tx, row["name"])
        return namespace_body(updated)

    async def set_namespace_external_storage(
        self, name: str, request: ExternalStoragePolicyRequest
    ) -> NamespaceBody:
        stored = policy.normalise(request)
        async for txn in self._tx():
            async with txn as tx:
                row = await self._existing(tx, name, lock="change")
                await tx.conn.execute(
                    rows.UPDATE,
                    {"b_name": row["name"], "external_payload_storage": stored, "updated_at": tx.now},
                )
                tx.namespaces_changed = True  # this process's offloading reads the new policy at once
                updated = await self._existing(tx, row["name"])
        return namespace_body(updated)

    async def delete_namespace(self, name: str) -> NamespaceDeletedBody:
        lowered = name.lower()
        if lowered in {"default", self.settings.default_namespace.lower()}:
            # Every request without X-Namespace and /api/ready depend on it: deleting it would
            # take the whole server out of service for every tenant.
            raise DomainError(
                reasons.DEFAULT_NAMESPACE_PROTECTED,
                f"Namespace '{lowered}' is the server's default namespace and cannot be deleted.",
                namespace=lowered,
            )
        async for txn in self._tx():
            async with txn as tx:
                row = await self._existing(tx, name, lock="delete")
                deleted = await deletion.delete_namespace_rows(tx, row["name"])
                await tx.conn.execute(rows.DELETE, {"b_name": row["name"]})
                tx.namespaces_changed = True
        return {"name": row["name"], "status": DELETED, "deleted": deleted}
