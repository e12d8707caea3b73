"""Payloads shown as JSON: every ``{codec, blob}`` envelope in a value decoded in place.

A value that cannot be decoded (an unknown codec, a corrupt blob) is shown as a short note
rather than failing the page. A payload kept in external storage (``{codec, external_storage}``,
or the stored ``dw-external-payload:v1:`` string) is never fetched here: it is shown as an
:class:`ExternalPayload` (a one-line note in the JSON) and collected by :func:`shown`, so the page
can offer a "resolve" link that fetches that one payload on demand (``/workflow/payload``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import (
    STORED_REFERENCE_PREFIX,
    ExternalPayloadReference,
    is_external_storage_envelope,
    stored_reference,
)

from ..engine.external_storage.stored import to_stored

_MAX_DEPTH = 64  # history payloads nest a few levels; never recurse without bound on a page
# History events keep some payloads as a bare blob beside the event's ``payload_codec``.
_BLOB_KEYS = frozenset({"arguments", "input", "output", "result", "details"})


@dataclass(frozen=True)
class ExternalPayload:
    """A payload kept in external storage, shown by its reference until someone resolves it."""

    reference: ExternalPayloadReference

    @property
    def token(self) -> str:
        """The reference as one URL-safe string (its stored form): ``ref=`` of the resolve link."""
        return to_stored(self.reference)

    def __str__(self) -> str:
        digest = self.reference.sha256[:12]
        return f"<external payload: {self.reference.size_bytes} bytes, sha256 {digest}…, not fetched>"


def shown(value: Any) -> tuple[Any, list[ExternalPayload]]:
    """``value`` decoded for the page, and the external payloads found in it (in order, once each)."""
    found: list[ExternalPayload] = []
    result = _decoded(value, 0, found)
    unique = list(dict.fromkeys(found))
    return result, unique


def decoded(value: Any, depth: int = 0) -> Any:
    """``value`` with every payload envelope replaced by the value it carries."""
    return _decoded(value, depth, [])


def _external(value: Any, found: list[ExternalPayload]) -> ExternalPayload | str:
    try:
        reference = stored_reference(value)
    except ValueError as exc:
        return f"<invalid external payload reference: {exc}>"
    assert reference is not None
    payload = ExternalPayload(reference)
    found.append(payload)
    return payload


def _decoded(value: Any, depth: int, found: list[ExternalPayload]) -> Any:
    if depth > _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        if is_external_storage_envelope(value):
            return _external(value, found)
        if codec.is_envelope(value):
            try:
                return _decoded(codec.decode_envelope(value), depth + 1, found)
            except Exception as exc:  # any codec failure: show why, keep the page
                return f"<undecodable {value.get('codec')} payload: {type(exc).__name__}>"
        blob_codec = value.get("payload_codec")
        return {
            key: _blob(item, blob_codec, found)
            if key in _BLOB_KEYS and isinstance(item, str) and isinstance(blob_codec, str)
            else _decoded(item, depth + 1, found)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_decoded(item, depth + 1, found) for item in value]
    if isinstance(value, str) and value.startswith(STORED_REFERENCE_PREFIX):
        return _external(value, found)
    return value


def _blob(blob: str, payload_codec: str, found: list[ExternalPayload]) -> Any:
    if blob.startswith(STORED_REFERENCE_PREFIX):
        return _external(blob, found)
    try:
        return codec.decode(blob, payload_codec)
    except Exception:  # not a blob after all (a plain string field): show it as it is
        return blob
