"""The namespace's search-attribute registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol import routes
from ._base import BaseClient

# The result classes load with the first call that returns one (``dw`` cold start).
if TYPE_CHECKING:
    from ._search_attribute_results import SearchAttributeList


class SearchAttributesMixin(BaseClient):
    """The namespace's search-attribute registry. methods of :class:`durable_workflow.Client`."""

    async def list_search_attributes(self) -> SearchAttributeList:
        """List the namespace's search attributes, system and custom apart.

        Raises:
            Unauthorized / Forbidden / ServerError: Auth or server errors.
        """
        data = await self._request_object("GET", routes.SEARCH_ATTRIBUTES, operation="list_search_attributes")
        from ._search_attribute_results import SearchAttributeList

        return SearchAttributeList.from_dict(data)

    async def create_search_attribute(self, name: str, attribute_type: str) -> dict[str, Any]:
        """Register a custom search attribute of ``attribute_type`` in the client's namespace.

        Args:
            name: A letter, then letters, digits or ``_`` (at most 128); not a system name.
            attribute_type: One of ``keyword``, ``text``, ``int``, ``double``, ``bool``,
                ``datetime``, ``keyword_list``.

        Returns:
            The server's answer, ``{"name", "type", "outcome": "created"}``.

        Raises:
            InvalidArgument: A duplicate or system-reserved name, an unsupported type, a bad
                name, or the namespace's limit of custom attributes reached.
        """
        return await self._request_object(
            "POST",
            routes.SEARCH_ATTRIBUTES,
            body={"name": name, "type": attribute_type},
            operation="create_search_attribute",
        )

    async def delete_search_attribute(self, name: str) -> dict[str, Any]:
        """Remove a custom search attribute; values already on runs stay as they are.

        Returns:
            The server's answer, ``{"name", "outcome": "deleted"}``.

        Raises:
            SearchAttributeNotFound: No custom attribute of that name.
            InvalidArgument: ``name`` is a system attribute.
        """
        return await self._request_object(
            "DELETE",
            routes.SEARCH_ATTRIBUTE,
            path_params={"name": name},
            operation="delete_search_attribute",
        )
