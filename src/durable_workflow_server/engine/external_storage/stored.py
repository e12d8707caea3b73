"""The stored form of an offloaded payload, and turning it back into the wire's reference form.

Inside the server an offloaded payload is a *string* wherever a blob string would be (the text
columns ``input_blob``, ``arguments_blob``, ``result_blob``, ``output_blob`` and the blob values
of history event payloads): ``dw-external-payload:v1:`` followed by the base64 of the JSON
``{codec, external_storage}`` envelope — the reference engine's stored form
(worker-plane.md §6.1). A blob of the ``avro`` codec is base64 text, which never contains ``:``,
so the prefix cannot be mistaken for a payload. Keeping one string type means every place that
copies a blob from a command into a row and an event (and from a child into its parent, from a
run into its continuation) carries a reference without knowing about references.

On the way out (history pages, tasks, describe, update results) the string becomes the envelope
*object* ``{codec, external_storage: {schema, uri, sha256, size_bytes, codec}}``, the form
``durable_workflow.protocol.payload_storage`` documents for history and SDK 0.4.84 also reads.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from durable_workflow.protocol.codec import SUPPORTED_CODECS
from durable_workflow.protocol.payload_storage import (
    STORED_REFERENCE_PREFIX,
    ExternalPayloadReference,
    ExternalStorageEnvelope,
    reference_from_envelope,
    stored_reference,
)
from durable_workflow.protocol.wire import Envelope

# The event payload keys whose values are blobs (bare, or inside a ``{codec, blob}`` envelope).
PAYLOAD_KEYS = frozenset({"arguments", "result", "output", "input"})


def to_stored(reference: ExternalPayloadReference) -> str:
    """The string kept in place of the blob ``reference`` stands for."""
    text = json.dumps(reference.envelope(), separators=(",", ":"), sort_keys=True)
    return STORED_REFERENCE_PREFIX + base64.b64encode(text.encode("utf-8")).decode("ascii")


def stored_envelope(value: object) -> tuple[str, str]:
    """``(codec, stored form)`` of a sender's ``{codec, external_storage}`` envelope.

    Checks the reference strictly (schema, uri, 64-hex sha256, integer size, codec equal to the
    envelope's and one the server reads); ``ValueError`` with the reason otherwise. The bytes
    are fetched and verified later, by ``offloading.accept`` inside the storing transaction.
    """
    reference = reference_from_envelope(value)
    if reference.codec not in SUPPORTED_CODECS:
        raise ValueError(f"payload codec {reference.codec!r} is not supported; use avro")
    return reference.codec, to_stored(reference)


def is_stored(value: object) -> bool:
    """Whether ``value`` is (or claims to be) a stored reference rather than a blob."""
    return isinstance(value, str) and value.startswith(STORED_REFERENCE_PREFIX)


def reference_of(value: object) -> ExternalPayloadReference | None:
    """The reference a stored blob value holds; ``None`` for a blob (or a malformed reference).

    Only the server writes stored references into rows, so a malformed one means a damaged
    row: it is passed through as it is rather than failing the whole read.
    """
    if not is_stored(value):
        return None
    try:
        return stored_reference(value)
    except ValueError:
        return None


def wire_envelope(codec: str, blob: str) -> Envelope | ExternalStorageEnvelope:
    """``{codec, blob}``, or ``{codec, external_storage}`` when the blob is a stored reference."""
    reference = reference_of(blob)
    return reference.envelope() if reference is not None else {"codec": codec, "blob": blob}


def _wire_value(value: Any) -> Any:
    if isinstance(value, str):
        reference = reference_of(value)
        return reference.envelope() if reference is not None else value
    if isinstance(value, Mapping) and set(value) == {"codec", "blob"}:
        reference = reference_of(value["blob"])
        return reference.envelope() if reference is not None else value
    return value


def wire_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An event payload as sent: each stored reference at a payload key as its envelope object.

    The stored dict is returned unchanged (not copied) when it holds no reference, the common case.
    """
    out: dict[str, Any] | None = None
    for key in PAYLOAD_KEYS.intersection(payload):
        value = payload[key]
        wired = _wire_value(value)
        if wired is not value:
            if out is None:
                out = dict(payload)
            out[key] = wired
    return payload if out is None else out


def references_in(payload: Mapping[str, Any]) -> list[ExternalPayloadReference]:
    """The stored references an event payload holds at its payload keys."""
    found: list[ExternalPayloadReference] = []
    for key in PAYLOAD_KEYS.intersection(payload):
        value = payload[key]
        if isinstance(value, Mapping) and set(value) == {"codec", "blob"}:
            value = value["blob"]
        reference = reference_of(value)
        if reference is not None:
            found.append(reference)
    return found
