"""The ``Engine`` mixin implementing :class:`.api.SearchAttributeAPI`."""

from __future__ import annotations

import sqlalchemy as sa

from durable_workflow.protocol import errors as reasons

from ...store import tables as t
from ..core import EngineCore
from ..errors import DomainError
from ..namespaces import rows as namespace_rows
from . import rows
from .shapes import SearchAttributeCreatedBody, SearchAttributeDeletedBody, SearchAttributeListBody
from .types import (
    ATTRIBUTE_ALREADY_EXISTS,
    LIMIT_REACHED,
    MAX_CUSTOM_ATTRIBUTES,
    NAME_RESERVED,
    SYSTEM_ATTRIBUTE,
    SYSTEM_ATTRIBUTES,
    is_reserved,
)

# Creates in one namespace queue behind its namespace row, so the limit holds under concurrency.
_NAMESPACE = sa.select(t.namespaces.c.name).where(t.namespaces.c.name == sa.bindparam("b_namespace"))


class SearchAttributeCommands(EngineCore):
    """The typed search-attribute registry of each namespace."""

    async def list_search_attributes(self, namespace: str) -> SearchAttributeListBody:
        async with self._read() as tx:
            found = await tx.all(rows.DEFINITIONS, {"b_namespace": namespace})
        return {
            "system_attributes": dict(SYSTEM_ATTRIBUTES),
            "custom_attributes": {row["name"]: row["attribute_type"] for row in found},
        }

    async def create_search_attribute(
        self, namespace: str, name: str, attribute_type: str
    ) -> SearchAttributeCreatedBody:
        if is_reserved(name):
            raise DomainError(
                NAME_RESERVED,
                f"Search attribute name [{name}] is reserved for a system attribute.",
                name=name,
            )
        async for txn in self._tx():
            async with txn as tx:
                # The namespace row first (the delete's lock order); gone since the request was let
                # in (deleted by another process): refused, no definition left behind.
                if await tx.one(tx.store.lock(_NAMESPACE), {"b_namespace": namespace}) is None:
                    raise namespace_rows.not_found(namespace)
                params = {"b_namespace": namespace, "b_name": name}
                existing = await tx.one(rows.DEFINITION, params)
                if existing is not None:
                    raise DomainError(
                        ATTRIBUTE_ALREADY_EXISTS,
                        f"Search attribute [{name}] already exists.",
                        name=name,
                        type=existing["attribute_type"],
                    )
                count = await tx.one(rows.COUNT, {"b_namespace": namespace})
                if count is not None and int(count["n"]) >= MAX_CUSTOM_ATTRIBUTES:
                    raise DomainError(
                        LIMIT_REACHED,
                        f"The namespace already has {MAX_CUSTOM_ATTRIBUTES} custom search attributes.",
                        limit=MAX_CUSTOM_ATTRIBUTES,
                    )
                await tx.conn.execute(
                    rows.INSERT_DEFINITION,
                    {
                        "namespace": namespace,
                        "name": name,
                        "attribute_type": attribute_type,
                        "created_at": tx.now,
                    },
                )
        return {"name": name, "type": attribute_type, "outcome": "created"}

    async def delete_search_attribute(self, namespace: str, name: str) -> SearchAttributeDeletedBody:
        if name in SYSTEM_ATTRIBUTES:
            raise DomainError(
                SYSTEM_ATTRIBUTE,
                f"Search attribute [{name}] is a system attribute and cannot be deleted.",
                name=name,
            )
        async for txn in self._tx():
            async with txn as tx:
                deleted = await tx.conn.execute(
                    rows.DELETE_DEFINITION, {"b_namespace": namespace, "b_name": name}
                )
                if deleted.rowcount == 0:
                    raise DomainError(
                        reasons.ATTRIBUTE_NOT_FOUND, f"Search attribute [{name}] was not found.", name=name
                    )
        return {"name": name, "outcome": "deleted"}
