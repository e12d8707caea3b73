"""The answer of ``Client.test_external_storage`` (``POST /storage/test``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import opt_bool, opt_float, opt_int, opt_text, text

__all__ = ["StoragePayloadTestResult", "StorageTestResult"]


@dataclass(frozen=True)
class StoragePayloadTestResult:
    """One test payload's round trip through the namespace's external storage driver.

    ``bytes``, ``sha256`` (of the test bytes) and ``reference_uri`` (where it was written) come
    from every server; ``wrote``, ``read``, ``verified`` and ``latency_ms`` from servers that
    report each step (this project's does). Fields a server leaves out are ``None``.
    """

    status: str
    bytes: int | None = None
    sha256: str | None = None
    reference_uri: str | None = None
    wrote: bool | None = None
    read: bool | None = None
    verified: bool | None = None
    latency_ms: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoragePayloadTestResult:
        return cls(
            status=text(data, "status"),
            bytes=opt_int(data, "bytes"),
            sha256=opt_text(data, "sha256"),
            reference_uri=opt_text(data, "reference_uri"),
            wrote=opt_bool(data, "wrote"),
            read=opt_bool(data, "read"),
            verified=opt_bool(data, "verified"),
            latency_ms=opt_float(data, "latency_ms"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class StorageTestResult:
    """The server's verdict on a namespace's external payload storage (``status == "passed"``)."""

    status: str
    namespace: str | None = None
    driver: str | None = None
    small_payload: StoragePayloadTestResult | None = None
    large_payload: StoragePayloadTestResult | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StorageTestResult:
        small, large = data.get("small_payload"), data.get("large_payload")
        return cls(
            status=text(data, "status"),
            namespace=opt_text(data, "namespace"),
            driver=opt_text(data, "driver"),
            small_payload=StoragePayloadTestResult.from_dict(small) if isinstance(small, Mapping) else None,
            large_payload=StoragePayloadTestResult.from_dict(large) if isinstance(large, Mapping) else None,
            raw=dict(data),
        )
