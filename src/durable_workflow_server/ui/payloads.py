"""Payloads shown as JSON: every ``{codec, blob}`` envelope in a value decoded in place.

A value that cannot be decoded (an unknown codec, a corrupt blob) is shown as a short note
rather than failing the page; external storage references are shown as they are stored.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import codec

_MAX_DEPTH = 64  # history payloads nest a few levels; never recurse without bound on a page
# History events keep some payloads as a bare blob beside the event's ``payload_codec``.
_BLOB_KEYS = frozenset({"arguments", "input", "output", "result", "details"})


def decoded(value: Any, depth: int = 0) -> Any:
    """``value`` with every payload envelope replaced by the value it carries."""
    if depth > _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        if codec.is_envelope(value):
            try:
                return decoded(codec.decode_envelope(value), depth + 1)
            except Exception as exc:  # any codec failure: show why, keep the page
                return f"<undecodable {value.get('codec')} payload: {type(exc).__name__}>"
        blob_codec = value.get("payload_codec")
        return {
            key: _blob(item, blob_codec)
            if key in _BLOB_KEYS and isinstance(item, str) and isinstance(blob_codec, str)
            else decoded(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [decoded(item, depth + 1) for item in value]
    return value


def _blob(blob: str, payload_codec: str) -> Any:
    try:
        return codec.decode(blob, payload_codec)
    except Exception:  # not a blob after all (a plain string field): show it as it is
        return blob
