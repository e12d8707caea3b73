"""The external-payload reference: what history and envelopes carry instead of a large blob."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

EXTERNAL_PAYLOAD_REFERENCE_SCHEMA = "durable-workflow.v2.external-payload-reference.v1"

# The form the reference engine (PHP) keeps in a history column when it stores a reference as a
# string: this prefix and the base64 of the JSON envelope. We write the envelope object itself;
# the string form is only read, so histories written by that engine resolve too.
STORED_REFERENCE_PREFIX = "dw-external-payload:v1:"

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_MAX_URI = 2048


class _ReferenceRequired(TypedDict):
    schema: str
    uri: str
    sha256: str
    size_bytes: int
    codec: str


class ExternalPayloadReferenceBody(_ReferenceRequired, total=False):
    """The JSON form of a reference (``external_storage`` inside an envelope)."""

    expires_at: str


class ExternalStorageEnvelope(TypedDict):
    """``{codec, external_storage}``: a payload whose bytes live in external storage."""

    codec: str
    external_storage: ExternalPayloadReferenceBody


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"invalid external payload reference: {message}")


def _check_timestamp(value: str) -> None:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    _require(
        parsed is not None and parsed.tzinfo is not None and "T" in text.upper(),
        "expires_at must be an ISO-8601 date-time with a UTC offset",
    )


@dataclass(frozen=True)
class ExternalPayloadReference:
    """An immutable pointer to payload bytes kept in external storage.

    ``size_bytes`` and ``sha256`` describe the stored bytes exactly, so a reader can refuse an
    object that went missing, was truncated or was changed (``fetch_external_payload``).
    ``codec`` is the codec of those bytes (for ``avro`` they are the UTF-8 of the base64 blob).
    Constructing one validates every field, like ``from_dict`` (``ValueError``).
    """

    uri: str
    sha256: str
    size_bytes: int
    codec: str
    schema: str = EXTERNAL_PAYLOAD_REFERENCE_SCHEMA
    expires_at: str | None = None

    def __post_init__(self) -> None:
        _require(self.schema == EXTERNAL_PAYLOAD_REFERENCE_SCHEMA, f"unsupported schema {self.schema!r}")
        _require(
            isinstance(self.uri, str) and 0 < len(self.uri) <= _MAX_URI and self.uri.isprintable(),
            "uri must be a non-empty printable string of at most 2048 characters",
        )
        _require(
            isinstance(self.sha256, str) and _SHA256.fullmatch(self.sha256) is not None,
            "sha256 must be 64 hexadecimal characters",
        )
        _require(
            type(self.size_bytes) is int and self.size_bytes >= 0,
            "size_bytes must be a non-negative integer",
        )
        _require(
            isinstance(self.codec, str) and 0 < len(self.codec) <= 64 and self.codec.isprintable(),
            "codec must be a non-empty printable codec name",
        )
        if self.expires_at is not None:
            _require(isinstance(self.expires_at, str), "expires_at must be a string")
            _check_timestamp(self.expires_at)
        # One spelling of the digest, so equal references compare (and cache) equal.
        object.__setattr__(self, "sha256", self.sha256.lower())

    @classmethod
    def from_dict(cls, data: object) -> ExternalPayloadReference:
        """Parse the JSON form strictly: the known schema and every field well-formed.

        Keys the schema does not name are ignored (additive keys of newer peers must not make
        every reader fail); they are not kept by ``to_dict``.
        """
        _require(isinstance(data, Mapping), "a reference must be a JSON object")
        assert isinstance(data, Mapping)
        missing = sorted({"schema", "uri", "sha256", "size_bytes", "codec"} - set(data))
        _require(not missing, f"missing field(s) {', '.join(missing)}")
        return cls(
            uri=data["uri"],
            sha256=data["sha256"],
            size_bytes=data["size_bytes"],
            codec=data["codec"],
            schema=data["schema"],
            expires_at=data.get("expires_at"),
        )

    def to_dict(self) -> ExternalPayloadReferenceBody:
        """The JSON form (``expires_at`` only when set)."""
        body: ExternalPayloadReferenceBody = {
            "schema": self.schema,
            "uri": self.uri,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "codec": self.codec,
        }
        if self.expires_at is not None:
            body["expires_at"] = self.expires_at
        return body

    def envelope(self) -> ExternalStorageEnvelope:
        """The ``{codec, external_storage}`` envelope carrying this reference."""
        return {"codec": self.codec, "external_storage": self.to_dict()}


def is_external_storage_envelope(value: object) -> bool:
    """True for an object whose keys are exactly ``codec`` and ``external_storage``."""
    return isinstance(value, Mapping) and set(value.keys()) == {"codec", "external_storage"}


def reference_from_envelope(value: object) -> ExternalPayloadReference:
    """The reference inside a ``{codec, external_storage}`` envelope (``ValueError`` otherwise).

    The reference's codec must equal the envelope's: a reader decodes the fetched bytes with the
    envelope codec, so a disagreement would decode them wrongly.
    """
    _require(is_external_storage_envelope(value), "not a {codec, external_storage} envelope")
    assert isinstance(value, Mapping)
    reference = ExternalPayloadReference.from_dict(value["external_storage"])
    _require(
        value["codec"] == reference.codec,
        f"envelope codec {value['codec']!r} differs from the reference codec {reference.codec!r}",
    )
    return reference


def stored_reference(value: object) -> ExternalPayloadReference | None:
    """The reference a stored payload value holds, or None when it holds the payload itself.

    Recognises the envelope object (what this project writes into history in place of a blob
    string) and the reference engine's prefixed string. A value that looks like a reference but
    is malformed raises ``ValueError`` rather than being decoded as a blob.
    """
    if is_external_storage_envelope(value):
        return reference_from_envelope(value)
    if isinstance(value, str) and value.startswith(STORED_REFERENCE_PREFIX):
        try:
            decoded: Any = json.loads(base64.b64decode(value[len(STORED_REFERENCE_PREFIX) :], validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("invalid external payload reference: bad stored reference string") from exc
        return reference_from_envelope(decoded)
    return None
