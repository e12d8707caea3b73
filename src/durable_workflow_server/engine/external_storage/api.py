"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from durable_workflow.protocol.payload_storage import ExternalStorageEnvelope
from durable_workflow.protocol.wire import Envelope

from .shapes import StorageTestBody

# The sizes a storage test writes when the caller names none (the contract requires both; the
# SDK's documented ``test_external_storage()`` may send neither, and should still get a test).
DEFAULT_SMALL_PAYLOAD_BYTES = 1024
DEFAULT_LARGE_PAYLOAD_BYTES = 1_048_576
MAX_SMALL_PAYLOAD_BYTES = 1_048_576
MAX_LARGE_PAYLOAD_BYTES = 16_777_216


@dataclass(frozen=True)
class StorageTestRequest:
    """A validated ``POST /storage/test`` body; ``driver=None``: the namespace policy's driver."""

    driver: str | None = None
    small_payload_bytes: int = DEFAULT_SMALL_PAYLOAD_BYTES
    large_payload_bytes: int = DEFAULT_LARGE_PAYLOAD_BYTES


class ExternalStorageAPI(Protocol):
    """Server-side external payload storage: drivers, offloading over the threshold, the storage test."""

    async def test_external_storage(self, namespace: str, request: StorageTestRequest) -> StorageTestBody:
        """Round-trip a small and a large payload through ``namespace``'s driver (§8.2).

        Refusals, in this order: ``external_storage_not_configured`` (no driver named, no
        policy), ``external_storage_disabled``, ``storage_driver_unavailable`` (another driver
        than the policy's, or one this server cannot build). Nothing is left in storage.
        """
        ...

    async def resolve_external_payload(self, namespace: str, envelope: ExternalStorageEnvelope) -> Envelope:
        """The ``{codec, blob}`` a ``{codec, external_storage}`` reference of ``namespace`` stands for.

        Fetched through the namespace's driver and verified (size, SHA-256, a decodable blob) by
        the same code that resolves a reference sent in a request (``offloading.resolve``); one
        payload per call, for a reader that asked for it (the UI's "resolve"). Refusals:
        ``validation_failed`` on ``payload.external_storage`` (a malformed reference, no or a
        disabled policy, an unusable driver, a URI outside the namespace's storage, a missing or
        changed object), ``storage_driver_unavailable`` (the storage could not be read).
        """
        ...
