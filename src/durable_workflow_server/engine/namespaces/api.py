"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .shapes import NamespaceBody, NamespaceDeletedBody, NamespaceListBody


@dataclass(frozen=True)
class CreateNamespaceRequest:
    """A validated ``POST /namespaces`` body (``retention_days=None``: the server's default)."""

    name: str
    description: str | None = None
    retention_days: int | None = None


@dataclass(frozen=True)
class UpdateNamespaceRequest:
    """A validated ``PUT /namespaces/{namespace}`` body: ``None`` leaves a field unchanged."""

    description: str | None = None
    retention_days: int | None = None


@dataclass(frozen=True)
class ExternalStoragePolicyRequest:
    """A validated ``PUT /namespaces/{namespace}/external-storage`` body.

    ``config`` is as sent (its known keys checked as strings); the engine drops empty entries.
    """

    driver: str
    enabled: bool = True
    threshold_bytes: int | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


class NamespaceAPI(Protocol):
    """Namespaces: list, describe, create, update, delete; the external-storage policy.

    Names are compared lower-cased. An unknown name is ``DomainError(namespace_not_found)``.
    """

    async def list_namespaces(self, visible: frozenset[str] | None = None) -> NamespaceListBody:
        """Every namespace, oldest first; only those in ``visible`` when given (a bound credential)."""
        ...

    async def describe_namespace(self, name: str) -> NamespaceBody:
        """One namespace, with its external-storage policy."""
        ...

    async def create_namespace(self, request: CreateNamespaceRequest) -> NamespaceBody:
        """Create a namespace; ``namespace_already_exists`` when the name is taken."""
        ...

    async def update_namespace(self, name: str, request: UpdateNamespaceRequest) -> NamespaceBody:
        """Change the given fields of a namespace (``updated_at`` moves even when none is given)."""
        ...

    async def delete_namespace(self, name: str) -> NamespaceDeletedBody:
        """Hard-delete a namespace and every row scoped to it; answer the counts by kind."""
        ...

    async def set_namespace_external_storage(
        self, name: str, request: ExternalStoragePolicyRequest
    ) -> NamespaceBody:
        """Replace the namespace's external payload storage policy; answer the namespace."""
        ...
