"""Small helpers shared by the engine: ids, timestamps, page tokens, canonical JSON, background work."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable
from datetime import datetime, timedelta, timezone
from typing import Any, overload

from . import ulids

_UTC = timezone.utc


def new_id() -> str:
    """A lower-case ULID (run ids, task ids, event ids, ...)."""
    return ulids.default.new()


def new_upper_id() -> str:
    """An upper-case ULID (server-generated worker ids, as the reference server does)."""
    return ulids.default.new().upper()


@overload
def rfc3339(value: datetime) -> str: ...
@overload
def rfc3339(value: datetime | None) -> str | None: ...
def rfc3339(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, or ``None``."""
    if value is None:
        return None
    tz = value.tzinfo
    if tz is not _UTC:
        value = value.replace(tzinfo=_UTC) if tz is None else value.astimezone(_UTC)
    # Every timestamp of every answer passes through here: positional ``isoformat`` with the
    # ``+00:00`` sliced off is the same text as ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")``, for less,
    # except before year 1000, where the C library's ``%Y`` does not pad (kept as it was).
    if value.year < 1000:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.isoformat("T", "microseconds")[:26] + "Z"


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def encode_token(number: int) -> str:
    """Page tokens are base64 of a decimal number (an offset or a sequence)."""
    return base64.b64encode(str(number).encode("ascii")).decode("ascii")


def decode_token(token: str) -> int | None:
    """The number inside a page token, or ``None`` when the token is not base64-of-digits."""
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not text.isdigit():
        return None
    return int(text)


def canonical_json(value: Any) -> str:
    """Recursively key-sorted, compact, non-ASCII-preserving JSON (export checksums)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_BACKGROUND: set[asyncio.Future[Any]] = set()  # strong references until each one finishes


def best_effort_in_background(work: Awaitable[Any]) -> None:
    """Run ``work`` without awaiting it (the caller is being cancelled, or must not wait).

    Kept referenced until it finishes (the loop holds only weak references to tasks); its
    failure is retrieved and dropped: the callers' work is a release whose failure leaves a
    lease to expire, which redelivers the task.
    """
    running = asyncio.ensure_future(work)
    _BACKGROUND.add(running)

    def finished(done: asyncio.Future[Any]) -> None:
        _BACKGROUND.discard(done)
        if not done.cancelled():
            done.exception()

    running.add_done_callback(finished)
