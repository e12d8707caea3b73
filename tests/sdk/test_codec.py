"""The payload codec against the project's own Avro vectors and the documented examples.

``tests/fixtures/avro/*.json`` are built with fastavro by ``scripts/make_avro_vectors.py`` from
the wire facts, independently of the codec under test; a test keeps them in step with the
generator. Conformance with the vectors of the shared contract data is checked separately
(``tests/conformance/``).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durable_workflow.protocol import codec
from durable_workflow.protocol.codec import PayloadCodecError
from tests.helpers.values import same

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "fixtures" / "avro"
VALUE_V1 = json.loads((VECTORS / "value-v1.json").read_text(encoding="utf-8"))
GENERIC = json.loads((VECTORS / "generic-wrapper.json").read_text(encoding="utf-8"))


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_avro_vectors", REPO / "scripts" / "make_avro_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()
native = GENERATOR.native  # tagged vector value -> Python value (see the generator's docstring)


def by_name(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"argvalues": rows, "ids": [row["name"] for row in rows]}


# --------------------------------------------------------------------------- the vector files


def test_checked_in_vectors_are_what_the_generator_builds() -> None:
    for name, text in GENERATOR.build().items():
        assert (VECTORS / name).read_text(encoding="utf-8") == text, f"regenerate {name}"


def test_vector_headers_match_codec_constants() -> None:
    assert bytes.fromhex(VALUE_V1["magic_hex"]) == codec.VALUE_V1_MAGIC
    assert bytes.fromhex(VALUE_V1["fingerprint_hex"]) == codec.VALUE_V1_FINGERPRINT
    assert VALUE_V1["avro_schema"] == codec.VALUE_V1_SCHEMA
    assert GENERIC["avro_schema"] == json.loads(codec.GENERIC_WRAPPER_SCHEMA_JSON)
    assert bytes.fromhex(GENERIC["prefix_hex"]) == codec.GENERIC_WRAPPER_PREFIX


# --------------------------------------------------------------------------- Value v1


@pytest.mark.parametrize("case", **by_name(VALUE_V1["cases"]))
def test_value_v1_case_encodes_to_exact_bytes(case: dict[str, Any]) -> None:
    assert codec.encode_value_v1(native(case["value"])) == case["wire_base64"]


@pytest.mark.parametrize("case", **by_name(VALUE_V1["cases"] + VALUE_V1["decode_only"]))
def test_value_v1_case_decodes(case: dict[str, Any]) -> None:
    expected = native(case["value"])
    assert same(codec.decode(case["wire_base64"]), expected)
    # And through the envelope path every client uses.
    assert same(codec.decode_envelope({"codec": "avro", "blob": case["wire_base64"]}), expected)


@pytest.mark.parametrize("group", **by_name(VALUE_V1["map_orders"]))
def test_value_v1_map_order_does_not_matter(group: dict[str, Any]) -> None:
    assert len(set(group["wire_base64"])) == len(group["wire_base64"]) >= 2  # really different bytes
    for wire in group["wire_base64"]:
        assert same(codec.decode(wire), native(group["value"]))


@pytest.mark.parametrize("frame", **by_name(VALUE_V1["malformed"]))
def test_value_v1_malformed_frame_is_refused_with_its_reason(frame: dict[str, Any]) -> None:
    with pytest.raises(PayloadCodecError) as info:
        codec.decode(frame["wire_base64"])
    assert info.value.reason == frame["reason"]


def test_non_finite_doubles_are_refused_on_encode() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(PayloadCodecError) as info:
            codec.encode_value_v1([bad])
        assert info.value.reason == "invalid_payload_framing"


def test_out_of_range_integers_and_non_string_keys_are_refused_on_encode() -> None:
    for bad in (2**63, -(2**63) - 1, {1: "x"}, {"ok": object()}):
        with pytest.raises(PayloadCodecError) as info:
            codec.encode_value_v1(bad)
        assert info.value.reason == "invalid_payload_framing"


# --------------------------------------------------------------------------- generic wrapper vectors


@pytest.mark.parametrize("case", **by_name(GENERIC["cases"]))
def test_generic_wrapper_case_encodes_and_decodes(case: dict[str, Any]) -> None:
    value = json.loads(case["json"])
    assert base64.b64decode(case["wire_base64"]) == bytes.fromhex(case["bytes_hex"])
    assert codec.encode(value) == case["wire_base64"]
    assert same(codec.decode(case["wire_base64"]), value)


@pytest.mark.parametrize("frame", **by_name(GENERIC["malformed"]))
def test_generic_wrapper_malformed_frame_is_refused(frame: dict[str, Any]) -> None:
    with pytest.raises(PayloadCodecError) as info:
        codec.decode(frame["wire_base64"])
    assert info.value.reason == frame["reason"]


# --------------------------------------------------------------------------- codecs other than avro


def test_json_tagged_payloads_are_refused_as_an_unsupported_codec() -> None:
    text = json.dumps(["Ada"])
    for env in ({"codec": "json", "blob": text}, {"codec": "json", "blob": None}):
        with pytest.raises(PayloadCodecError) as info:
            codec.decode_envelope(env)
        assert info.value.reason == "unsupported_payload_codec"
    with pytest.raises(PayloadCodecError) as info:
        codec.decode(text, "json")
    assert info.value.reason == "unsupported_payload_codec"


@pytest.mark.parametrize("task", [{}, {"payload_codec": None}, {"payload_codec": "json"}], ids=repr)
def test_a_task_without_a_supported_payload_codec_is_refused(task: dict[str, Any]) -> None:
    with pytest.raises(PayloadCodecError) as info:
        codec.task_payload_codec(task)
    assert info.value.reason == "unsupported_payload_codec"


def test_task_payload_codec_accepts_avro() -> None:
    assert codec.task_payload_codec({"payload_codec": "avro"}) == "avro"


# --------------------------------------------------------------------------- generic wrapper

# Worked examples of the wire documentation (what SDK 0.4.84 writes), pinned literally so that
# neither the codec nor the vector generator can drift from them.
GENERIC_EXAMPLES = [
    ([], "AARbXQI="),
    (["world"], "ABJbIndvcmxkIl0C"),
    ([{"order_id": 42, "priority": "gold"}], "AEZbeyJvcmRlcl9pZCI6NDIsInByaW9yaXR5IjoiZ29sZCJ9XQI="),
    (None, "AAhudWxsAg=="),
    (["Ada"], "AA5bIkFkYSJdAg=="),
    ("Hello, Ada!", "ABoiSGVsbG8sIEFkYSEiAg=="),
    (42, "AAQ0MgI="),
]
VALUE_V1_EXAMPLES = [
    ("hello Ada", "wwHioz3/VYAiNwoSaGVsbG8gQWRh"),
    (["Ada"], "wwHioz3/VYAiNwwCCgZBZGEA"),
    (None, "wwHioz3/VYAiNwA="),
    (7, "wwHioz3/VYAiNwQO"),
]


@pytest.mark.parametrize(("value", "blob"), GENERIC_EXAMPLES, ids=lambda x: repr(x)[:30])
def test_generic_wrapper_worked_examples(value: Any, blob: str) -> None:
    assert codec.encode(value) == blob
    assert codec.decode(blob) == value
    assert codec.envelope(value) == {"codec": "avro", "blob": blob}


@pytest.mark.parametrize(("value", "blob"), VALUE_V1_EXAMPLES, ids=lambda x: repr(x)[:30])
def test_value_v1_worked_examples(value: Any, blob: str) -> None:
    assert codec.encode_value_v1(value) == blob
    assert codec.decode(blob) == value


def test_generic_wrapper_keeps_non_ascii_as_utf8() -> None:
    raw = base64.b64decode(codec.encode("héllo"))
    assert raw[0] == 0 and "héllo".encode() in raw


def test_generic_wrapper_rejects_truncation_and_trailing_bytes() -> None:
    raw = base64.b64decode(codec.encode(["world"]))
    for bad in (raw[:-2], raw + b"\x00"):
        with pytest.raises(PayloadCodecError) as info:
            codec.decode(base64.b64encode(bad).decode())
        assert info.value.reason == "invalid_payload_framing"


def test_untagged_payloads_are_plain_json() -> None:
    assert codec.decode('"hello Ada"', None) == "hello Ada"
    assert codec.decode_payload({"codec": "avro", "blob": "ABJbIndvcmxkIl0C"}, None) == ["world"]


# --------------------------------------------------------------------------- properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_generic_wrapper_round_trips_json_values(value: Any) -> None:
    assert same(codec.decode(codec.encode(value)), json.loads(json.dumps(value)))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_value_v1_round_trips_json_values(value: Any) -> None:
    assert same(codec.decode(codec.encode_value_v1(value)), value)
