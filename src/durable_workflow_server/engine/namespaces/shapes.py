"""The answer bodies of the namespace methods: the wire shapes of ``durable_workflow.protocol``."""

from __future__ import annotations

from durable_workflow.protocol.wire import (
    ExternalPayloadStoragePolicy,
    NamespaceDeleteResponse,
    NamespaceListResponse,
    NamespaceResponse,
)

# The engine answers exactly the wire shapes; the aliases name them as engine bodies.
NamespaceBody = NamespaceResponse
NamespaceListBody = NamespaceListResponse
NamespaceDeletedBody = NamespaceDeleteResponse
StoragePolicy = ExternalPayloadStoragePolicy

__all__ = ["NamespaceBody", "NamespaceDeletedBody", "NamespaceListBody", "StoragePolicy"]
