"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol

from .shapes import SearchAttributeCreatedBody, SearchAttributeDeletedBody, SearchAttributeListBody


class SearchAttributeAPI(Protocol):
    """The typed search-attribute registry of each namespace."""

    async def list_search_attributes(self, namespace: str) -> SearchAttributeListBody:
        """The system attributes and the namespace's custom ones (sorted by name)."""
        ...

    async def create_search_attribute(
        self, namespace: str, name: str, attribute_type: str
    ) -> SearchAttributeCreatedBody:
        """Register a custom attribute; the HTTP layer has checked the name's form and the type.

        Refusals: ``name_reserved`` (a system name, compared without case),
        ``attribute_already_exists`` (with the existing ``name`` and ``type``),
        ``search_attribute_limit_reached`` (with ``limit``).
        """
        ...

    async def delete_search_attribute(self, namespace: str, name: str) -> SearchAttributeDeletedBody:
        """Remove a custom attribute; values on runs stay (shown, no longer filterable by type).

        Refusals: ``system_attribute``, ``attribute_not_found``.
        """
        ...
