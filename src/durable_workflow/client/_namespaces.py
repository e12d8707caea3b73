"""Namespaces and external payload storage: CRUD, the storage policy, the storage round-trip test."""

from __future__ import annotations

from ._base import BaseClient


class NamespacesMixin(BaseClient):
    """Namespaces and external payload storage methods of :class:`durable_workflow.Client`."""
