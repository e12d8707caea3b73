"""Namespaces and external payload storage: CRUD, the storage policy, the storage round-trip test."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..protocol import routes
from ._base import BaseClient

# The result classes load with the first call that returns one (``dw`` cold start).
if TYPE_CHECKING:
    from ._namespace_results import NamespaceDescription, NamespaceList
    from ._storage_results import StorageTestResult


class NamespacesMixin(BaseClient):
    """Namespaces and external payload storage methods of :class:`durable_workflow.Client`.

    These name their namespace explicitly; the client's own ``namespace`` (``X-Namespace``) does
    not matter to them. A credential bound to some namespaces sees and touches only those
    (``Forbidden`` otherwise, whether the other namespace exists or not).
    """

    async def list_namespaces(self) -> NamespaceList:
        """Every namespace the credential may use (``GET /namespaces``), oldest first."""
        data = await self._request_object("GET", routes.NAMESPACES, operation="list_namespaces")
        from ._namespace_results import NamespaceList

        return NamespaceList.from_dict(data)

    async def describe_namespace(self, name: str) -> NamespaceDescription:
        """One namespace with its external payload storage policy.

        Raises:
            NamespaceNotFound: No namespace of that name.
        """
        data = await self._request_object(
            "GET", routes.NAMESPACE, path_params={"namespace": name}, operation="describe_namespace"
        )
        from ._namespace_results import NamespaceDescription

        return NamespaceDescription.from_dict(data)

    async def create_namespace(
        self, name: str, description: str | None = None, retention_days: int = 30
    ) -> NamespaceDescription:
        """Create a namespace (admin).

        Args:
            name: Letters, digits, ``.``, ``_`` and ``-``, at most 128; stored lower-cased.
            description: Free text, at most 1000 characters.
            retention_days: How long closed runs are kept, 1-365.

        Raises:
            InvalidArgument: The name is taken, or a field is invalid.
        """
        body = {"name": name, "description": description, "retention_days": retention_days}
        data = await self._request_object("POST", routes.NAMESPACES, body=body, operation="create_namespace")
        from ._namespace_results import NamespaceDescription

        return NamespaceDescription.from_dict(data)

    async def update_namespace(
        self, name: str, description: str | None = None, retention_days: int | None = None
    ) -> NamespaceDescription:
        """Change a namespace's description and/or retention (admin); only given fields are sent.

        Raises:
            NamespaceNotFound: No namespace of that name.
            InvalidArgument: A field is invalid.
        """
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if retention_days is not None:
            body["retention_days"] = retention_days
        data = await self._request_object(
            "PUT", routes.NAMESPACE, path_params={"namespace": name}, body=body, operation="update_namespace"
        )
        from ._namespace_results import NamespaceDescription

        return NamespaceDescription.from_dict(data)

    async def delete_namespace(self, name: str) -> NamespaceDescription:
        """Delete a namespace and everything in it (admin): its runs with their history and
        tasks, schedules, search attribute definitions and worker registrations.

        Returns the namespace with ``status="deleted"`` and the counts removed in ``deleted``.

        Raises:
            NamespaceNotFound: No namespace of that name.
        """
        data = await self._request_object(
            "DELETE", routes.NAMESPACE, path_params={"namespace": name}, operation="delete_namespace"
        )
        from ._namespace_results import NamespaceDescription

        return NamespaceDescription.from_dict(data)

    async def set_namespace_external_storage(
        self,
        name: str | None = None,
        *,
        driver: str,
        enabled: bool = True,
        threshold_bytes: int | None = None,
        config: Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> NamespaceDescription:
        """Replace a namespace's external payload storage policy (admin), as
        ``dw namespace:set-storage-driver`` does.

        Args:
            name: The namespace.
            driver: ``local``, ``s3``, ``gcs`` or ``azure`` (required, by keyword).
            enabled: ``False`` keeps the policy but stops offloading.
            threshold_bytes: Payloads larger than this are stored externally; sent only when given.
            config: Driver keys (``uri``, ``disk``, ``bucket``, ``prefix``, ``region``,
                ``endpoint``, ``auth_profile``, ...); ``disk`` names a server-side credential
                binding, so credentials stay on the server. Sent only when given.
            namespace: Deprecated alias of ``name`` (the 0.4.0 keyword); emits a
                ``DeprecationWarning``.

        Returns:
            The namespace with the policy the server persisted in ``external_payload_storage``.

        Raises:
            InvalidArgument: The server refused the policy.
            NamespaceNotFound: No namespace of that name.
        """
        if namespace is not None:
            if name is not None:
                raise TypeError("pass the namespace as name only, not also as namespace=")
            warnings.warn(
                "set_namespace_external_storage(namespace=...) is deprecated; pass the namespace "
                "name as the first argument (name=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            name = namespace
        if name is None:
            raise TypeError("set_namespace_external_storage() needs the namespace name")
        body: dict[str, Any] = {"driver": driver, "enabled": enabled}
        if threshold_bytes is not None:
            body["threshold_bytes"] = threshold_bytes
        if config is not None:
            body["config"] = dict(config)
        data = await self._request_object(
            "PUT",
            routes.NAMESPACE_EXTERNAL_STORAGE,
            path_params={"namespace": name},
            body=body,
            operation="set_namespace_external_storage",
        )
        from ._namespace_results import NamespaceDescription

        return NamespaceDescription.from_dict(data)

    async def test_external_storage(
        self,
        driver: str | None = None,
        small_payload_bytes: int | None = None,
        large_payload_bytes: int | None = None,
    ) -> StorageTestResult:
        """Ask the server to round-trip a small and a large payload through this namespace's
        external storage driver (``POST /storage/test``, admin; mirrors ``dw storage:test``).

        Unlike the methods above, this one acts on the client's own namespace (``X-Namespace``).
        ``driver`` defaults to the namespace policy's; the sizes (bytes) are sent only when
        given (this project's server then writes 1 KiB and 1 MiB).

        Raises:
            InvalidArgument: no policy (``external_storage_not_configured``), a disabled one
                (``external_storage_disabled``), or a driver the server cannot test
                (``storage_driver_unavailable``); also for sizes out of range.
            ServerError: the round trip failed (written bytes not read back intact).
        """
        body: dict[str, Any] = {}
        if small_payload_bytes is not None:
            body["small_payload_bytes"] = small_payload_bytes
        if large_payload_bytes is not None:
            body["large_payload_bytes"] = large_payload_bytes
        if driver is not None:
            body["driver"] = driver
        data = await self._request_object(
            "POST", routes.STORAGE_TEST, body=body, operation="test_external_storage"
        )
        from ._storage_results import StorageTestResult

        return StorageTestResult.from_dict(data)
