#!/usr/bin/env python3
"""Build the project's own Avro payload vectors (``tests/fixtures/avro/*.json``) with fastavro.

The vectors are derived from the wire facts alone (summarised here), not from
``durable_workflow.protocol.codec``, so the codec tests compare our codec against an
independent encoding:

* the **generic wrapper**: ``0x00`` then the Avro binary of the record ``{json, version}``,
  with the JSON text in compact form (``separators=(",", ":")``, non-ASCII kept as UTF-8);
* the typed **Value v1** single-object form: ``C3 01``, the 8-byte CRC-64-AVRO fingerprint of
  the schema's parsing canonical form, then the datum of the union-of-records schema below.

Values are written in a tagged JSON form so that every distinction the codec must keep
survives the JSON file: ``{"long": "7"}`` (decimal text, exact for all of int64),
``{"double": "-0.0"}`` (``repr`` text), ``{"bytes": "00ff"}`` (hex), ``{"string": ...}``,
``{"boolean": ...}``, ``{"null": null}``, ``{"array": [...]}`` and
``{"map": [[key, value], ...]}`` (pairs, so the encoded order is explicit).

Usage: ``python scripts/make_avro_vectors.py`` rewrites the files; ``--check`` exits 1 when
the checked-in files differ from what this script builds (the test suite runs that check).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

OUT_DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "avro"
FILE_SCHEMA = "durable-workflow-python.avro-vectors/v1"

GENERIC_SCHEMA = {
    "type": "record",
    "name": "Payload",
    "namespace": "durable_workflow",
    "fields": [{"name": "json", "type": "string"}, {"name": "version", "type": "int", "default": 1}],
}


def _branch(name: str, field: str, avro_type: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": [{"name": field, "type": avro_type}]}


# Branch order is part of the wire format: a datum starts with the zigzag index of its branch.
VALUE_SCHEMA = {
    "type": "record",
    "name": "Value",
    "namespace": "durable_workflow.protocol",
    "fields": [
        {
            "name": "value",
            "type": [
                "null",
                _branch("BooleanValue", "boolean", "boolean"),
                _branch("LongValue", "long", "long"),
                _branch("DoubleValue", "double", "double"),
                _branch("BytesValue", "bytes", "bytes"),
                _branch("StringValue", "string", "string"),
                _branch("ArrayValue", "items", {"type": "array", "items": "Value"}),
                _branch("MapValue", "entries", {"type": "map", "values": "Value"}),
            ],
        }
    ],
}
NS = "durable_workflow.protocol."
MAGIC = b"\xc3\x01"

# --------------------------------------------------------------------------- tagged values


def native(tagged: dict[str, Any]) -> Any:
    """The Python value a tagged vector value stands for (maps keep the listed key order)."""
    ((tag, body),) = tagged.items()
    if tag == "null":
        return None
    if tag == "boolean":
        return bool(body)
    if tag == "long":
        return int(body)
    if tag == "double":
        return float(body)
    if tag == "bytes":
        return bytes.fromhex(body)
    if tag == "string":
        return str(body)
    if tag == "array":
        return [native(item) for item in body]
    if tag == "map":
        return {key: native(item) for key, item in body}
    raise ValueError(f"unknown tag {tag!r}")


def _long(n: int) -> dict[str, str]:
    return {"long": str(n)}


def _double(x: float) -> dict[str, str]:
    return {"double": repr(x)}


def _str(s: str) -> dict[str, str]:
    return {"string": s}


def _map(*pairs: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"map": [[key, value] for key, value in pairs]}


# --------------------------------------------------------------------------- Value v1


def _datum(value: Any) -> Any:
    """fastavro's form of a Value: each branch named explicitly, so 1 and 1.0 and True differ."""
    if value is None:
        return None
    if isinstance(value, bool):
        return (NS + "BooleanValue", {"boolean": value})
    if isinstance(value, int):
        return (NS + "LongValue", {"long": value})
    if isinstance(value, float):
        return (NS + "DoubleValue", {"double": value})
    if isinstance(value, bytes):
        return (NS + "BytesValue", {"bytes": value})
    if isinstance(value, str):
        return (NS + "StringValue", {"string": value})
    if isinstance(value, list):
        return (NS + "ArrayValue", {"items": [{"value": _datum(item)} for item in value]})
    return (NS + "MapValue", {"entries": {key: {"value": _datum(item)} for key, item in value.items()}})


def _fingerprint() -> bytes:
    canonical = to_parsing_canonical_form(fastavro.parse_schema(VALUE_SCHEMA))
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


def value_v1(value: Any) -> bytes:
    buf = io.BytesIO()
    buf.write(MAGIC + _fingerprint())
    fastavro.schemaless_writer(buf, fastavro.parse_schema(VALUE_SCHEMA), {"value": _datum(value)})
    return buf.getvalue()


def _zigzag(n: int) -> bytes:
    """Avro's variable-length zigzag encoding of an int or long."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _avro_string(s: str) -> bytes:
    raw = s.encode("utf-8")
    return _zigzag(len(raw)) + raw


VALUE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("null", {"null": None}),
    ("true", {"boolean": True}),
    ("false", {"boolean": False}),
    ("long_zero", _long(0)),
    ("long_seven", _long(7)),
    ("long_minus_one", _long(-1)),
    ("long_two_byte_varint", _long(64)),
    ("long_int64_min", _long(-(2**63))),
    ("long_int64_max", _long(2**63 - 1)),
    ("double_zero", _double(0.0)),
    ("double_negative_zero", _double(-0.0)),
    ("double_seven", _double(7.0)),
    ("double_fraction", _double(-2.5)),
    ("double_huge", _double(1e300)),
    ("double_smallest_subnormal", _double(5e-324)),
    ("bytes_empty", {"bytes": ""}),
    ("bytes_binary", {"bytes": "00ff7f80"}),
    ("string_empty", _str("")),
    ("string_ascii", _str("hello Ada")),
    ("string_non_ascii", _str("héllo ✓ 日本")),
    ("string_long", _str("x" * 100)),
    ("array_empty", {"array": []}),
    ("array_arguments", {"array": [_str("Ada")]}),
    ("array_mixed", {"array": [{"null": None}, {"boolean": True}, _long(7), _double(7.0), _str("text")]}),
    ("map_empty", _map()),
    ("map_flat", _map(("a", _long(1)), ("b", {"boolean": False}))),
    ("map_digit_keys", _map(("0", _str("zero")), ("1", _str("one")))),
    ("map_empty_key", _map(("", {"null": None}))),
    (
        "nested",
        _map(
            ("order", _map(("id", _long(42)), ("lines", {"array": [_map(("sku", _str("a-1")))]}))),
            ("raw", {"bytes": "0102"}),
            ("total", _double(19.5)),
        ),
    ),
]

# One value, several encodings: maps are unordered, so every key order must decode equal.
MAP_ORDERS = [
    ("two_keys", [("left", _long(1)), ("right", {"bytes": "78"})]),
    ("three_keys", [("a", _str("x")), ("b", {"array": []}), ("c", _map(("inner", _long(-3))))]),
]


def _orders(pairs: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
    return [pairs, list(reversed(pairs))] + ([pairs[1:] + pairs[:1]] if len(pairs) > 2 else [])


def _blocks_frame() -> bytes:
    """``{"a": 1, "b": [true, false]}`` written with one map entry and one array item per block.

    Avro lets a writer split arrays and maps into several blocks (fastavro always writes one);
    a reader must accept any blocking. Built byte by byte: branch indexes, then block counts.
    """
    one_long = _zigzag(2) + _zigzag(1)  # LongValue branch, 1
    true, false = _zigzag(1) + b"\x01", _zigzag(1) + b"\x00"
    array = _zigzag(6) + _zigzag(1) + true + _zigzag(1) + false + _zigzag(0)
    # A negative count is followed by the block's size in bytes (so readers can skip it).
    second = _avro_string("b") + array
    entries = _zigzag(1) + _avro_string("a") + one_long + _zigzag(-1) + _zigzag(len(second)) + second
    return MAGIC + _fingerprint() + _zigzag(7) + entries + _zigzag(0)


def _malformed() -> list[dict[str, str]]:
    head = MAGIC + _fingerprint()
    hello = value_v1("hello")
    nan = struct.pack("<d", math.nan)
    inf = struct.pack("<d", math.inf)
    frames = [
        ("empty_blob", b"", "invalid_payload_framing"),
        ("magic_only", MAGIC, "invalid_payload_framing"),
        ("header_without_datum", head, "invalid_payload_framing"),
        ("wrong_second_magic_byte", b"\xc3\x02" + _fingerprint() + b"\x00", "invalid_payload_framing"),
        ("unknown_fingerprint", MAGIC + bytes(8) + b"\x00", "unsupported_payload_schema"),
        ("unknown_prefix", b"\x05\x00", "invalid_payload_framing"),
        ("truncated_string", hello[:-1], "invalid_payload_framing"),
        ("trailing_byte", hello + b"\x00", "invalid_payload_framing"),
        ("branch_index_past_the_union", head + _zigzag(8), "invalid_payload_framing"),
        ("negative_branch_index", head + _zigzag(-1), "invalid_payload_framing"),
        ("double_nan", head + _zigzag(3) + nan, "invalid_payload_framing"),
        (
            "double_negative_infinity",
            head + _zigzag(3) + struct.pack("<d", -math.inf),
            "invalid_payload_framing",
        ),
        (
            "double_infinity_inside_array",
            head + _zigzag(6) + _zigzag(1) + _zigzag(3) + inf + _zigzag(0),
            "invalid_payload_framing",
        ),
        ("string_invalid_utf8", head + _zigzag(5) + _zigzag(1) + b"\xff", "invalid_payload_framing"),
        ("array_missing_end_marker", head + _zigzag(6) + _zigzag(1) + b"\x00", "invalid_payload_framing"),
    ]
    rows = [{"name": name, "wire_base64": _b64(data), "reason": reason} for name, data, reason in frames]
    rows.append({"name": "not_base64", "wire_base64": "wwHi*?", "reason": "invalid_payload_framing"})
    return rows


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def value_v1_file() -> dict[str, Any]:
    cases = [
        {"name": name, "value": value, "wire_base64": _b64(value_v1(native(value)))}
        for name, value in VALUE_CASES
    ]
    orders = []
    for name, pairs in MAP_ORDERS:
        wires = [_b64(value_v1(native(_map(*order)))) for order in _orders(pairs)]
        orders.append({"name": name, "value": _map(*pairs), "wire_base64": wires})
    blocked = _map(("a", _long(1)), ("b", {"array": [{"boolean": True}, {"boolean": False}]}))
    return {
        "schema": FILE_SCHEMA,
        "framing": "value-v1",
        "avro_schema": VALUE_SCHEMA,
        "magic_hex": MAGIC.hex(),
        "fingerprint_hex": _fingerprint().hex(),
        "cases": cases,
        "map_orders": orders,
        "decode_only": [{"name": "blocks_of_one", "value": blocked, "wire_base64": _b64(_blocks_frame())}],
        "malformed": _malformed(),
    }


# --------------------------------------------------------------------------- generic wrapper


def json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def generic(value: Any) -> bytes:
    buf = io.BytesIO()
    buf.write(b"\x00")
    record = {"json": json_text(value), "version": 1}
    fastavro.schemaless_writer(buf, fastavro.parse_schema(GENERIC_SCHEMA), record)
    return buf.getvalue()


GENERIC_CASES: list[tuple[str, Any]] = [
    ("arguments_empty", []),
    ("arguments_one_string", ["Ada"]),
    ("arguments_object", [{"order_id": 42, "priority": "gold"}]),
    ("result_string", "Hello, Ada!"),
    ("result_object", {"greeting": "Hello, Ada!"}),
    ("result_null", None),
    ("result_integer", 42),
    ("result_float_keeps_fraction", 2.0),
    ("result_booleans", [True, False]),
    ("non_ascii_stays_utf8", "héllo ✓"),
    ("slash_is_not_escaped", "a/b"),
    ("two_byte_length_varint", "x" * 70),
    ("nested", {"a": [1, {"b": None}], "c": "d"}),
]


def _generic_raw(text: bytes, version: bytes = b"\x02") -> bytes:
    return b"\x00" + _zigzag(len(text)) + text + version


def generic_file() -> dict[str, Any]:
    cases = []
    for name, value in GENERIC_CASES:
        raw = generic(value)
        cases.append(
            {"name": name, "json": json_text(value), "bytes_hex": raw.hex(), "wire_base64": _b64(raw)}
        )
    good = generic(["world"])
    malformed = [
        ("truncated", good[:-2]),
        ("trailing_byte", good + b"\x00"),
        ("missing_version", good[:-1]),
        ("invalid_json_inside", _generic_raw(b"{")),
        ("invalid_utf8_inside", _generic_raw(b'"\xff"')),
        ("prefix_only", b"\x00"),
    ]
    return {
        "schema": FILE_SCHEMA,
        "framing": "generic-wrapper",
        "avro_schema": GENERIC_SCHEMA,
        "prefix_hex": "00",
        "cases": cases,
        "malformed": [
            {"name": name, "wire_base64": _b64(raw), "reason": "invalid_payload_framing"}
            for name, raw in malformed
        ],
    }


# --------------------------------------------------------------------------- files


def build() -> dict[str, str]:
    """File name → file text, exactly as checked in."""
    files = {"value-v1.json": value_v1_file(), "generic-wrapper.json": generic_file()}
    return {name: json.dumps(data, indent=2, ensure_ascii=False) + "\n" for name, data in files.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the checked-in vectors are stale")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build().items():
        path = OUT_DIR / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"stale vectors: {', '.join(stale)}; run python scripts/make_avro_vectors.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
