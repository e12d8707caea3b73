"""``PayloadStorage``: one per engine, reached from every transaction as ``tx.payloads``.

It keeps what is worth keeping between requests — each namespace's policy (for
``namespace_cache_seconds``) and the drivers built from them (a boto3 client is costly to make)
— and runs the drivers' blocking calls in a worker thread, so a 5 MiB write or an S3 round trip
never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from durable_workflow.protocol.payload_storage import (
    ExternalPayloadReference,
    ExternalStorageDriver,
    fetch_external_blob,
    store_external_payload,
)

from ...settings import Settings
from ..transaction import Tx
from ..util import seconds
from . import policy as policies
from .drivers import build_driver
from .policy import PolicyCache, StoragePolicy


@dataclass(frozen=True)
class WrittenObject:
    """An object written during one transaction: deleted again if that transaction rolls back."""

    driver: ExternalStorageDriver
    uri: str


@dataclass
class PayloadStorage:
    """Policies, drivers and the I/O of external payload storage (see the module docstring)."""

    settings: Settings
    policies: PolicyCache = field(default_factory=PolicyCache)
    _drivers: dict[tuple[str, str], ExternalStorageDriver] = field(default_factory=dict)

    def forget_policies(self) -> None:
        """Drop every cached policy (a namespace changed in this process)."""
        self.policies.clear()

    async def policy(self, tx: Tx, namespace: str) -> StoragePolicy | None:
        """``namespace``'s policy, from the cache or read in ``tx``."""
        known, cached = self.policies.get(namespace, tx.now)
        if known:
            return cached
        found = await policies.load(tx, namespace)
        self.policies.put(namespace, found, tx.now + seconds(self.settings.namespace_cache_seconds))
        return found

    def driver(self, namespace: str, policy: StoragePolicy) -> ExternalStorageDriver:
        """The driver ``policy`` means for ``namespace`` (``DriverUnavailable`` when none)."""
        key = (namespace, json.dumps([policy.driver, dict(policy.config)], sort_keys=True, default=str))
        driver = self._drivers.get(key)
        if driver is None:
            driver = build_driver(policy, namespace, self.settings)
            self._drivers[key] = driver
        return driver

    # ------------------------------------------------------------------ blocking calls, off the loop
    @staticmethod
    async def put(driver: ExternalStorageDriver, data: bytes, codec: str) -> ExternalPayloadReference:
        return await asyncio.to_thread(store_external_payload, driver, data, codec=codec)

    @staticmethod
    async def fetch(driver: ExternalStorageDriver, reference: ExternalPayloadReference) -> str:
        """The verified blob text (``ExternalPayloadIntegrityError`` when missing or changed)."""
        return await asyncio.to_thread(fetch_external_blob, driver, reference)

    @staticmethod
    async def get(driver: ExternalStorageDriver, uri: str) -> bytes:
        return await asyncio.to_thread(driver.get, uri)

    @staticmethod
    async def delete(driver: ExternalStorageDriver, uri: str) -> None:
        await asyncio.to_thread(driver.delete, uri)
