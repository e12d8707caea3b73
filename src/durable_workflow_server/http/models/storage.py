"""``POST /storage/test`` (control-plane.md §8.2)."""

from __future__ import annotations

from typing import Annotated

from ...engine.external_storage.api import (
    DEFAULT_LARGE_PAYLOAD_BYTES,
    DEFAULT_SMALL_PAYLOAD_BYTES,
    MAX_LARGE_PAYLOAD_BYTES,
    MAX_SMALL_PAYLOAD_BYTES,
    StorageTestRequest,
)
from ...engine.external_storage.drivers import ALL_DRIVERS
from .. import fields as f
from . import RequestModel


class StorageTestBody(RequestModel):
    """``POST /api/storage/test``: round-trip test payloads through the namespace's driver.

    ``driver`` defaults to the policy's; the sizes default to 1 KiB and 1 MiB (the contract lists
    them as required, the SDK's documented call may send neither).
    """

    driver: Annotated[str | None, f.Text(choices=ALL_DRIVERS)] = None
    small_payload_bytes: Annotated[int | None, f.Integer(minimum=1, maximum=MAX_SMALL_PAYLOAD_BYTES)] = None
    large_payload_bytes: Annotated[int | None, f.Integer(minimum=1, maximum=MAX_LARGE_PAYLOAD_BYTES)] = None

    def request(self) -> StorageTestRequest:
        """The engine's request, defaults filled in."""
        return StorageTestRequest(
            driver=self.driver,
            small_payload_bytes=self.small_payload_bytes or DEFAULT_SMALL_PAYLOAD_BYTES,
            large_payload_bytes=self.large_payload_bytes or DEFAULT_LARGE_PAYLOAD_BYTES,
        )
