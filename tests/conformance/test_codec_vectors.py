"""Conformance: the payload codec against the codec vectors of the shared contract data.

* ``$DW_CONTRACT_DIR/avro/avro-value-v1-golden.json``: exact Value v1 bytes, decoding,
  map-order independence, and rejection of every malformed frame with its named reason;
* ``$DW_CONTRACT_DIR/codec-regressions/*.json``.

The project's own vectors (``tests/fixtures/avro/``) are checked by ``tests/sdk/test_codec.py``;
this module checks that we agree with the vectors other implementations are tested against.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow.protocol import codec
from durable_workflow.protocol.codec import PayloadCodecError
from tests.helpers.contract import contract_dir
from tests.helpers.values import same

pytestmark = pytest.mark.conformance

CONTRACT = contract_dir()
GOLDEN = json.loads((CONTRACT / "avro" / "avro-value-v1-golden.json").read_text())
REGRESSIONS = sorted((CONTRACT / "codec-regressions").glob("*.json"))

# Native values of the golden cases that the file leaves implicit (composite kinds carry only
# the wire bytes); written out here so decoding is checked against an independent expectation.
COMPOSITE_VALUES: dict[str, Any] = {
    "null": None,
    "array": [None, True, 7, 7.0, b"\x00\xff", "text"],
    "map": {"a": 1, "b": [False]},
    "map_empty": {},
    "map_key_0": {"0": "zero"},
    "map_keys_0_1": {"0": "zero", "1": "one"},
    "nested": {"items": [{"enabled": True}, b"bytes", -2.5]},
}


def golden_value(case: dict[str, Any]) -> Any:
    kind = case["kind"]
    if "value_base64" in case:
        return base64.b64decode(case["value_base64"])
    if "value" not in case:
        return COMPOSITE_VALUES[case["name"]]
    value = case["value"]
    if kind == "long":
        return int(value)
    if kind == "double":
        return float(value)
    return value


# --------------------------------------------------------------------------- golden corpus


def test_golden_header_matches_codec_constants() -> None:
    assert GOLDEN["schema"] == "durable_workflow.protocol.Value"
    assert bytes.fromhex(GOLDEN["fingerprint"]) == codec.VALUE_V1_FINGERPRINT
    assert bytes.fromhex(GOLDEN["magic_hex"]) == codec.VALUE_V1_MAGIC


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: c["name"])
def test_golden_case_encodes_to_exact_bytes(case: dict[str, Any]) -> None:
    assert codec.encode_value_v1(golden_value(case)) == case["wire_base64"]


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: c["name"])
def test_golden_case_decodes(case: dict[str, Any]) -> None:
    decoded = codec.decode(case["wire_base64"])
    assert same(decoded, golden_value(case))
    # And through the envelope path every client uses.
    assert same(codec.decode_envelope({"codec": "avro", "blob": case["wire_base64"]}), golden_value(case))


@pytest.mark.parametrize("group", GOLDEN["alternate_map_orders"], ids=lambda g: g["name"])
def test_alternate_map_orders_decode_equal(group: dict[str, Any]) -> None:
    decoded = [codec.decode(wire) for wire in group["wire_base64"]]
    assert len(decoded) >= 2
    assert all(d == decoded[0] for d in decoded)
    assert decoded[0] == {"outer": [{"left": 1, "right": b"x"}], "tail": "done"}


@pytest.mark.parametrize("frame", GOLDEN["malformed_frames"], ids=lambda f: f["name"])
def test_malformed_frame_is_rejected_with_named_reason(frame: dict[str, Any]) -> None:
    with pytest.raises(PayloadCodecError) as info:
        codec.decode(frame["wire_base64"])
    assert info.value.reason == frame["error"]


# --------------------------------------------------------------------------- regressions


def regression_value(node: dict[str, Any]) -> Any:
    kind = node["type"]
    if kind == "null":
        return None
    if kind == "long":
        return int(node["value"])
    if kind == "double":
        return float(node["value"])
    if kind == "bytes":
        return base64.b64decode(node["base64"])
    if kind == "array":
        return [regression_value(item) for item in node["items"]]
    if kind == "map":
        return {entry["key"]: regression_value(entry["value"]) for entry in node["entries"]}
    return node["value"]  # boolean, string


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.stem)
def test_codec_regression(path: Path) -> None:
    case = json.loads(path.read_text())
    assert case["fixture_schema"] == "durable-workflow.codec-regression/v1"
    protocol, policy = case["protocol"], case["failure_policy"]
    wire = case["framing"]["wire_base64"]
    value = regression_value(case["value"])
    operation = policy["operation"]

    if protocol["codec"] == "avro":
        if operation == "round_trip":
            assert codec.encode_value_v1(value) == wire
            assert same(codec.decode(wire), value)
        else:
            with pytest.raises(PayloadCodecError) as info:
                codec.decode(wire)
            assert policy["error"] in str(info.value)
    elif protocol["codec"] == "json":
        assert operation == "decode_reject"
        text = base64.b64decode(wire).decode("utf-8")
        assert json.loads(text) == value
        # A json-tagged envelope is refused whether it carries the text or a null blob,
        # and a bare blob tagged json is refused too.
        for env in ({"codec": "json", "blob": text}, {"codec": "json", "blob": None}):
            with pytest.raises(PayloadCodecError) as info:
                codec.decode_envelope(env)
            assert info.value.reason == policy["error"]
        with pytest.raises(PayloadCodecError) as info:
            codec.decode(text, "json")
        assert info.value.reason == policy["error"]
    elif protocol["codec"] == "task-root":
        assert operation == "decode_reject"
        tasks = json.loads(base64.b64decode(wire))
        assert tasks == value
        assert tasks, "the fixture must carry at least one task"
        for task in tasks:
            assert task.get("payload_codec") is None
            with pytest.raises(PayloadCodecError) as info:
                codec.task_payload_codec(task)
            assert info.value.reason == policy["error"]
    else:  # pragma: no cover - a new codec kind in the contract must be handled explicitly
        pytest.fail(f"unknown regression codec {protocol['codec']!r}")
