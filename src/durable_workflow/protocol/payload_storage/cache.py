"""A bounded cache of payload bytes that were already verified against their reference."""

from __future__ import annotations

import threading
from collections import OrderedDict

from .reference import ExternalPayloadReference

__all__ = ["ExternalPayloadCache"]

_Key = tuple[str, str, int, str]


def _key(reference: ExternalPayloadReference) -> _Key:
    # The whole identity, not just the URI: a reference naming the same object with another
    # digest or size must miss, and be verified against the object itself.
    return (reference.uri, reference.sha256, reference.size_bytes, reference.codec)


class ExternalPayloadCache:
    """Least-recently-used bytes, bounded by entry count and by total bytes.

    Only ``fetch_external_payload`` fills it, after the size and SHA-256 check, so a hit is as
    trustworthy as a fresh verified read. An object larger than ``max_bytes`` is never cached.
    Safe to share between threads (activities may run on worker threads).
    """

    def __init__(self, *, max_entries: int = 128, max_bytes: int = 16 * 1024 * 1024) -> None:
        for name, limit in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
                raise ValueError(f"{name} must be a positive integer, got {limit!r}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[_Key, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def total_bytes(self) -> int:
        """The bytes currently held."""
        with self._lock:
            return self._bytes

    def get(self, reference: ExternalPayloadReference) -> bytes | None:
        """The cached bytes of ``reference`` (marking them recently used), or None."""
        with self._lock:
            data = self._entries.get(_key(reference))
            if data is not None:
                self._entries.move_to_end(_key(reference))
            return data

    def put(self, reference: ExternalPayloadReference, data: bytes) -> None:
        """Remember verified bytes, evicting the least recently used beyond either bound."""
        if len(data) > self.max_bytes:
            return
        key = _key(reference)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous)
            self._entries[key] = bytes(data)
            self._bytes += len(data)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def discard(self, reference: ExternalPayloadReference) -> None:
        """Forget every entry for the object ``reference`` names (whatever digest it was read with)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == reference.uri]:
                self._bytes -= len(self._entries.pop(key))

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
