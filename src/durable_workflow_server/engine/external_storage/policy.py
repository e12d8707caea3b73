"""A namespace's external payload storage policy as the storage code reads it (§8.1.5).

The policy is persisted by ``PUT /namespaces/{ns}/external-storage`` (the namespaces noun) in
``namespaces.external_payload_storage``; this module only reads it. Reads are cached per process
for ``namespace_cache_seconds``: every payload a request or a completion carries is compared
against the threshold, so the policy must not cost a query each time. A transaction of this
process that changes namespaces (``tx.namespaces_changed``) drops the cache at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ..namespaces.policy import stored as persisted_policy
from ..transaction import Tx

_ns = t.namespaces
POLICY_OF = sa.select(_ns.c.external_payload_storage).where(_ns.c.name == sa.bindparam("b_name"))


@dataclass(frozen=True)
class StoragePolicy:
    """``{driver, enabled, threshold_bytes?, config?}`` of one namespace."""

    driver: str
    enabled: bool = True
    threshold_bytes: int | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str | None:
        """A ``config`` entry as text (``None`` when absent or empty)."""
        value = self.config.get(key)
        return value if isinstance(value, str) and value else None

    @property
    def offloads(self) -> bool:
        """Whether payloads over a threshold are written to storage (enabled, with a threshold)."""
        return self.enabled and self.threshold_bytes is not None


def parse(value: Any) -> StoragePolicy | None:
    """The policy held in the JSON column; ``None`` for no policy (or a value that is not one)."""
    persisted = persisted_policy(value)  # the namespaces noun's one reading of the column
    if persisted is None:
        return None
    threshold = persisted.get("threshold_bytes")
    return StoragePolicy(
        driver=persisted["driver"],
        enabled=persisted["enabled"],
        threshold_bytes=threshold if threshold is not None and threshold >= 1 else None,
        config=persisted.get("config", {}),
    )


async def load(tx: Tx, namespace: str) -> StoragePolicy | None:
    """The namespace's policy, read in ``tx``."""
    row = await tx.one(POLICY_OF, {"b_name": namespace.lower()})
    return parse(row["external_payload_storage"]) if row is not None else None


@dataclass
class PolicyCache:
    """Policies read recently, each trusted until its time (see the module docstring)."""

    entries: dict[str, tuple[datetime, StoragePolicy | None]] = field(default_factory=dict)

    def get(self, namespace: str, now: datetime) -> tuple[bool, StoragePolicy | None]:
        """``(known, policy)``: ``known`` is False when the namespace must be read again."""
        entry = self.entries.get(namespace)
        if entry is None or now >= entry[0]:
            return False, None
        return True, entry[1]

    def put(self, namespace: str, policy: StoragePolicy | None, until: datetime) -> None:
        self.entries[namespace] = (until, policy)

    def clear(self) -> None:
        self.entries.clear()
