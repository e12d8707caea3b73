"""Payload codec: the ``{codec, blob}`` envelope and its Avro encodings.

Two Avro framings exist on the wire (see docs/protocol.md, "Payloads"):

* the **generic wrapper** written by SDK 0.4.84 and the reference engine: ``0x00`` followed by
  the Avro binary of the record ``{json: string, version: int}``, standard padded base64.
  This is what we *encode*, because every peer we must interoperate with reads it;
* the typed ``durable_workflow.protocol.Value`` v1 single-object encoding (``C3 01`` + an
  8-byte schema fingerprint + datum) written by newer peers. We *decode* it so their payloads
  and the contract fixtures read, and can encode it for conformance tests.

Arguments always travel as a JSON list (positional arguments); results as the bare value.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

from . import errors as reasons
from .wire import Envelope

AVRO = "avro"
SUPPORTED_CODECS = (AVRO,)

GENERIC_WRAPPER_PREFIX = b"\x00"
GENERIC_WRAPPER_SCHEMA_JSON = (
    '{"type":"record","name":"Payload","namespace":"durable_workflow","fields":'
    '[{"name":"json","type":"string"},{"name":"version","type":"int","default":1}]}'
)
VALUE_V1_MAGIC = b"\xc3\x01"
VALUE_V1_FINGERPRINT = bytes.fromhex("e2a33dff55802237")
VALUE_V1_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Value",
    "namespace": "durable_workflow.protocol",
    "fields": [
        {
            "name": "value",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "BooleanValue",
                    "fields": [{"name": "boolean", "type": "boolean"}],
                },
                {"type": "record", "name": "LongValue", "fields": [{"name": "long", "type": "long"}]},
                {"type": "record", "name": "DoubleValue", "fields": [{"name": "double", "type": "double"}]},
                {"type": "record", "name": "BytesValue", "fields": [{"name": "bytes", "type": "bytes"}]},
                {"type": "record", "name": "StringValue", "fields": [{"name": "string", "type": "string"}]},
                {
                    "type": "record",
                    "name": "ArrayValue",
                    "fields": [{"name": "items", "type": {"type": "array", "items": "Value"}}],
                },
                {
                    "type": "record",
                    "name": "MapValue",
                    "fields": [{"name": "entries", "type": {"type": "map", "values": "Value"}}],
                },
            ],
        }
    ],
}


@functools.cache
def _avro() -> tuple[ModuleType, Any, Any]:
    """fastavro with the generic-wrapper and Value v1 schemas parsed, loaded on the first Avro
    payload: ~30 ms of import that a process seeing only JSON payloads (``dw``) never pays."""
    import fastavro

    generic = fastavro.parse_schema(json.loads(GENERIC_WRAPPER_SCHEMA_JSON))
    return fastavro, generic, fastavro.parse_schema(VALUE_V1_SCHEMA)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NS = "durable_workflow.protocol."


class PayloadCodecError(ValueError):
    """A payload could not be encoded or decoded; ``reason`` is the wire reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


# The JSON and Value v1 walks recurse once per level: a payload nested deeper than the
# interpreter's stack (a blob is only bytes, so ``[[[[...`` 100k levels fits in a small one) is
# refused as bad framing, like any other undecodable payload, instead of escaping as a
# RecursionError that no caller expects.
_TOO_DEEP = "the payload is nested too deeply to decode"


def _too_deep() -> PayloadCodecError:
    return PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, _TOO_DEEP)


# --------------------------------------------------------------------------- generic wrapper


def _json_text(value: Any) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        # A lone surrogate is valid in a Python str but cannot become the UTF-8 of the blob;
        # ASCII text (most payloads) cannot hold one, so only other text pays for the check.
        if not text.isascii():
            text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise PayloadCodecError(
            reasons.INVALID_PAYLOAD_FRAMING, f"value is not JSON-encodable: {exc}"
        ) from exc
    except RecursionError as exc:
        raise PayloadCodecError(
            reasons.INVALID_PAYLOAD_FRAMING, "value is nested too deeply to encode"
        ) from exc
    return text


def encode(value: Any) -> str:
    """Encode a JSON-native value as a generic-wrapper Avro blob (base64 text)."""
    buf = io.BytesIO()
    buf.write(GENERIC_WRAPPER_PREFIX)
    fastavro, generic, _ = _avro()
    fastavro.schemaless_writer(buf, generic, {"json": _json_text(value), "version": 1})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _b64decode(blob: str) -> bytes:
    try:
        return base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "blob is not standard base64") from exc


def _decode_generic(data: bytes) -> Any:
    buf = io.BytesIO(data[1:])
    fastavro, generic, _ = _avro()
    try:
        record = fastavro.schemaless_reader(buf, generic, None)
    except Exception as exc:  # fastavro raises EOFError, UnicodeDecodeError, ...
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"bad generic wrapper: {exc}") from exc
    if buf.tell() != len(data) - 1:
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "trailing bytes after generic wrapper")
    assert isinstance(record, dict)
    try:
        return json.loads(record["json"])
    except ValueError as exc:
        raise PayloadCodecError(
            reasons.INVALID_PAYLOAD_FRAMING, "generic wrapper holds invalid JSON"
        ) from exc
    except RecursionError as exc:
        raise _too_deep() from exc


# --------------------------------------------------------------------------- Value v1


def _to_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return (_NS + "BooleanValue", {"boolean": value})
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "integer outside signed 64-bit range")
        return (_NS + "LongValue", {"long": value})
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "doubles must be finite")
        return (_NS + "DoubleValue", {"double": value})
    if isinstance(value, (bytes, bytearray)):
        return (_NS + "BytesValue", {"bytes": bytes(value)})
    if isinstance(value, str):
        return (_NS + "StringValue", {"string": value})
    if isinstance(value, (list, tuple)):
        return (_NS + "ArrayValue", {"items": [{"value": _to_value(v)} for v in value]})
    if isinstance(value, Mapping):
        entries: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "map keys must be strings")
            entries[key] = {"value": _to_value(item)}
        return (_NS + "MapValue", {"entries": entries})
    raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"unsupported type {type(value).__name__}")


def _from_value(node: Any) -> Any:
    if node is None:
        return None
    name, body = node
    short = name.rsplit(".", 1)[-1]
    if short == "BooleanValue":
        return body["boolean"]
    if short == "LongValue":
        return body["long"]
    if short == "DoubleValue":
        number = body["double"]
        if not math.isfinite(number):
            raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "non-finite double")
        return number
    if short == "BytesValue":
        return body["bytes"]
    if short == "StringValue":
        return body["string"]
    if short == "ArrayValue":
        return [_from_value(item["value"]) for item in body["items"]]
    if short == "MapValue":
        return {key: _from_value(item["value"]) for key, item in body["entries"].items()}
    raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"unknown Value branch {name}")


def encode_value_v1_bytes(value: Any) -> bytes:
    """Encode ``value`` in the typed Value v1 single-object form (raw bytes)."""
    buf = io.BytesIO()
    buf.write(VALUE_V1_MAGIC + VALUE_V1_FINGERPRINT)
    fastavro, _, value_schema = _avro()
    try:
        datum = _to_value(value)
    except RecursionError as exc:
        raise PayloadCodecError(
            reasons.INVALID_PAYLOAD_FRAMING, "value is nested too deeply to encode"
        ) from exc
    try:
        fastavro.schemaless_writer(buf, value_schema, {"value": datum})
    except ValueError as exc:  # a lone surrogate in a string or key (UnicodeEncodeError)
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"value cannot be encoded: {exc}") from exc
    return buf.getvalue()


def encode_value_v1(value: Any) -> str:
    """Encode ``value`` in the typed Value v1 single-object form, base64 text."""
    return base64.b64encode(encode_value_v1_bytes(value)).decode("ascii")


def decode_value_v1_bytes(data: bytes) -> Any:
    """Decode a Value v1 single-object frame; strict about framing, schema and trailing bytes."""
    if len(data) < 11 or data[:2] != VALUE_V1_MAGIC:
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "not a Value v1 single-object frame")
    if data[2:10] != VALUE_V1_FINGERPRINT:
        raise PayloadCodecError(
            reasons.UNSUPPORTED_PAYLOAD_SCHEMA, f"unknown schema fingerprint {data[2:10].hex()}"
        )
    buf = io.BytesIO(data[10:])
    fastavro, _, value_schema = _avro()
    try:
        record = fastavro.schemaless_reader(buf, value_schema, None, return_record_name=True)
    except PayloadCodecError:
        raise
    except Exception as exc:  # truncation, invalid UTF-8, unknown union branch
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"bad Value v1 datum: {exc}") from exc
    if buf.tell() != len(data) - 10:
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "trailing bytes after Value v1 datum")
    assert isinstance(record, dict)
    try:
        return _from_value(record["value"])
    except RecursionError as exc:
        raise _too_deep() from exc


# --------------------------------------------------------------------------- public decode


def decode(blob: str, codec: str | None = AVRO) -> Any:
    """Decode a blob string.

    ``codec="avro"`` accepts both Avro framings (detected by the leading bytes). ``codec=None``
    means the history recorded no codec at all: the blob is plain JSON text (old SDK histories).
    Any other codec, including an explicit ``"json"``, is refused with ``unsupported_payload_codec``.
    """
    if codec is None:
        if not isinstance(blob, str):
            return blob
        try:
            return json.loads(blob)
        except ValueError as exc:
            raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "untagged payload is not JSON") from exc
        except RecursionError as exc:
            raise _too_deep() from exc
    if codec != AVRO:
        raise PayloadCodecError(
            reasons.UNSUPPORTED_PAYLOAD_CODEC, f"payload codec {codec!r} is not supported"
        )
    if not isinstance(blob, str):
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "avro blob must be a base64 string")
    data = _b64decode(blob)
    if not data:
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "empty payload")
    if data[:1] == GENERIC_WRAPPER_PREFIX:
        return _decode_generic(data)
    if data[:1] == VALUE_V1_MAGIC[:1]:
        return decode_value_v1_bytes(data)
    raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"unknown Avro payload prefix 0x{data[0]:02x}")


def envelope(value: Any) -> Envelope:
    """Wrap ``value`` in a ``{"codec": "avro", "blob": ...}`` envelope."""
    return {"codec": AVRO, "blob": encode(value)}


def is_envelope(obj: Any) -> bool:
    """True for exactly ``{codec, blob}`` or ``{codec, external_storage}`` objects."""
    if not isinstance(obj, Mapping):
        return False
    keys = set(obj.keys())
    return keys == {"codec", "blob"} or keys == {"codec", "external_storage"}


def decode_envelope(env: Mapping[str, Any]) -> Any:
    """Decode a ``{codec, blob}`` envelope."""
    if not is_envelope(env):
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "not a {codec, blob} envelope")
    if "external_storage" in env:
        raise PayloadCodecError(
            "unsupported_payload_reference", "external-storage references must be fetched before decoding"
        )
    codec = env.get("codec")
    if codec is None:
        raise PayloadCodecError(reasons.UNSUPPORTED_PAYLOAD_CODEC, "envelope has no codec")
    # The codec verdict comes first: a ``json``-tagged envelope is refused as an unsupported
    # codec even when its blob is null (contract codec-regressions).
    if codec not in SUPPORTED_CODECS:
        raise PayloadCodecError(reasons.UNSUPPORTED_PAYLOAD_CODEC, f"payload codec {codec!r} is unsupported")
    blob = env.get("blob")
    if blob is None:
        raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, "envelope has no blob")
    return decode(blob, codec)


def decode_payload(raw: Any, codec: str | None = AVRO) -> Any:
    """Decode a history/task value that may be an envelope, a bare blob string, or absent.

    The envelope's own codec wins over ``codec`` (the sibling ``payload_codec`` field or the
    run's codec).
    """
    if raw is None:
        return None
    if is_envelope(raw):
        return decode_envelope(raw)
    if isinstance(raw, str):
        return decode(raw, codec)
    if codec is None:
        return raw  # already-decoded JSON (hand-written histories)
    raise PayloadCodecError(reasons.INVALID_PAYLOAD_FRAMING, f"cannot decode {type(raw).__name__} payload")


def task_payload_codec(task: Mapping[str, Any]) -> str:
    """The payload codec a worker task declares; refuses tasks that declare none.

    A task root whose ``payload_codec`` is missing or ``null`` cannot be decoded safely (the
    ``task-root`` codec regression), so it is refused with ``unsupported_payload_codec`` rather
    than guessed.
    """
    return require_task_codec(task.get("payload_codec"))


def require_task_codec(codec: object) -> str:
    """``codec`` (a task's declared ``payload_codec``) when it is supported; else ``PayloadCodecError``."""
    if codec is None:
        raise PayloadCodecError(reasons.UNSUPPORTED_PAYLOAD_CODEC, "task declares no payload_codec")
    if codec not in SUPPORTED_CODECS:
        raise PayloadCodecError(reasons.UNSUPPORTED_PAYLOAD_CODEC, f"payload codec {codec!r} is unsupported")
    return str(codec)
