"""Typed results of the namespace methods. Every class keeps the full answer in ``raw``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import opt_int, opt_text, text

__all__ = ["ExternalPayloadStoragePolicy", "NamespaceDescription", "NamespaceList"]


class ExternalPayloadStoragePolicy(dict[str, Any]):
    """A namespace's external payload storage policy: the plain mapping the server persisted.

    It *is* a ``dict`` (``{"driver", "enabled", "threshold_bytes"?, "config"?}``, the shape of
    :class:`durable_workflow.protocol.wire.ExternalPayloadStoragePolicy`), so it compares equal
    to the server's JSON and is what ``external_storage_driver_from_policy()`` takes; the keys
    are also readable as attributes (``policy.enabled``), as SDK 0.4.84's policy object has them.
    """

    @property
    def driver(self) -> str:
        """``local``, ``s3``, ``gcs`` or ``azure``."""
        return str(self["driver"])

    @property
    def enabled(self) -> bool:
        """Whether payloads over the threshold are stored externally."""
        return bool(self.get("enabled", True))

    @property
    def threshold_bytes(self) -> int | None:
        """Payloads larger than this are stored externally; ``None`` when the policy names none."""
        value = self.get("threshold_bytes")
        return value if isinstance(value, int) else None

    @property
    def config(self) -> dict[str, Any]:
        """The driver's settings (``disk``, ``bucket``, ``prefix``, ``uri``, ...); ``{}`` when none."""
        value = self.get("config")
        return dict(value) if isinstance(value, Mapping) else {}


def _policy(value: Any) -> ExternalPayloadStoragePolicy | None:
    """The policy as the server sent it, or ``None`` when the namespace has none.

    The server's own reading of the column (``engine/namespaces/policy.py``) is the strict
    twin of this; the SDK is deliberately more tolerant of other servers (PHP's ``[]`` for an
    empty map, a number sent as text).
    """
    if not isinstance(value, Mapping) or not isinstance(value.get("driver"), str):
        return None
    enabled = value.get("enabled")
    policy = ExternalPayloadStoragePolicy(
        driver=value["driver"], enabled=enabled if isinstance(enabled, bool) else True
    )
    threshold = opt_int(value, "threshold_bytes")
    if threshold is not None:
        policy["threshold_bytes"] = threshold
    config = value.get("config")
    if isinstance(config, Mapping):  # PHP servers render an empty map as []
        policy["config"] = dict(config)
    return policy


def _deleted(value: Any) -> dict[str, int]:
    """The integer counts of a delete's ``deleted`` block (anything else is dropped)."""
    if not isinstance(value, Mapping):
        return {}
    return {
        str(key): count
        for key, count in value.items()
        if isinstance(count, int) and not isinstance(count, bool)
    }


@dataclass(frozen=True)
class NamespaceDescription:
    """A namespace as the server described it.

    ``external_payload_storage`` is the namespace's policy, a plain ``dict``
    (:class:`ExternalPayloadStoragePolicy`: ``{"driver", "enabled", "threshold_bytes"?,
    "config"?}``, its keys also readable as attributes), exactly what
    ``external_storage_driver_from_policy()`` takes, or ``None`` when none is set.
    ``deleted`` holds the counts a delete answered (by kind: ``workflow_runs``,
    ``workflow_schedules``, ...), and is empty otherwise. Fields a server left out of an answer
    (the external-storage answer of older servers carries only the name, the policy and
    ``updated_at``) are ``None``.
    """

    name: str
    description: str | None = None
    retention_days: int | None = None
    status: str | None = None
    external_payload_storage: ExternalPayloadStoragePolicy | None = None
    created_at: str | None = None
    updated_at: str | None = None
    deleted: dict[str, int] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceDescription:
        """Build from a namespace body (describe, create, update, delete, external storage)."""
        return cls(
            name=text(data, "name"),
            description=opt_text(data, "description"),
            retention_days=opt_int(data, "retention_days"),
            status=opt_text(data, "status"),
            external_payload_storage=_policy(data.get("external_payload_storage")),
            created_at=opt_text(data, "created_at"),
            updated_at=opt_text(data, "updated_at"),
            deleted=_deleted(data.get("deleted")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class NamespaceList:
    """The namespaces ``GET /namespaces`` answered (every one the credential may use); iterable."""

    namespaces: list[NamespaceDescription] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[NamespaceDescription]:
        return iter(self.namespaces)

    def __len__(self) -> int:
        return len(self.namespaces)

    @property
    def names(self) -> list[str]:
        """The namespace names, in the server's order."""
        return [namespace.name for namespace in self.namespaces]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceList:
        """Build from a ``{"namespaces": [...]}`` body (items that are not objects are skipped)."""
        items = data.get("namespaces")
        rows = items if isinstance(items, list) else []
        return cls(
            [NamespaceDescription.from_dict(row) for row in rows if isinstance(row, Mapping)], dict(data)
        )
