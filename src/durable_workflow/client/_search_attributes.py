"""The namespace's search-attribute registry."""

from __future__ import annotations

from ._base import BaseClient


class SearchAttributesMixin(BaseClient):
    """The namespace's search-attribute registry. methods of :class:`durable_workflow.Client`."""
