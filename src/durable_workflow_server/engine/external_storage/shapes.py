"""The answer bodies of ``POST /storage/test`` (control-plane.md §8.2)."""

from __future__ import annotations

from typing import TypedDict


class StoragePayloadTestBody(TypedDict):
    """One payload's round trip: written, read back, verified and deleted.

    ``status``, ``bytes``, ``sha256`` (of the test bytes) and ``reference_uri`` are the contract's;
    ``wrote``, ``read``, ``verified`` and ``latency_ms`` (the whole round trip) are what the
    Python SDK's documentation promises on ``StoragePayloadTestResult``.
    """

    status: str
    bytes: int
    sha256: str
    reference_uri: str
    wrote: bool
    read: bool
    verified: bool
    deleted: bool
    latency_ms: float


class StorageTestBody(TypedDict):
    """``{"status": "passed", namespace, driver, small_payload, large_payload}``."""

    status: str
    namespace: str
    driver: str
    small_payload: StoragePayloadTestBody
    large_payload: StoragePayloadTestBody
