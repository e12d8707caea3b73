"""ExternalPayloadReference: strict parsing, its JSON form, and the stored forms in history."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest

from durable_workflow.protocol.payload_storage import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
    STORED_REFERENCE_PREFIX,
    ExternalPayloadReference,
    reference_from_envelope,
    stored_reference,
)

SHA = "0123456789abcdef" * 4


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema": EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
        "uri": "s3://dw-payloads/billing/run-001/input.json",
        "sha256": SHA,
        "size_bytes": 1048576,
        "codec": "json",
        "expires_at": "2026-05-22T00:00:00Z",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not _DROP}


_DROP = object()


def test_the_schema_constant_is_the_contracts() -> None:
    assert EXTERNAL_PAYLOAD_REFERENCE_SCHEMA == "durable-workflow.v2.external-payload-reference.v1"


def test_the_documented_wire_example_round_trips() -> None:
    reference = ExternalPayloadReference.from_dict(_body())
    assert reference == ExternalPayloadReference(
        uri="s3://dw-payloads/billing/run-001/input.json",
        sha256=SHA,
        size_bytes=1048576,
        codec="json",
        expires_at="2026-05-22T00:00:00Z",
    )
    assert reference.to_dict() == _body()
    assert ExternalPayloadReference.from_dict(reference.to_dict()) == reference


def test_expires_at_is_optional_and_left_out_when_unset() -> None:
    reference = ExternalPayloadReference.from_dict(_body(expires_at=_DROP))
    assert reference.expires_at is None
    assert "expires_at" not in reference.to_dict()


def test_a_reference_is_immutable() -> None:
    reference = ExternalPayloadReference.from_dict(_body())
    with pytest.raises(dataclasses.FrozenInstanceError):
        reference.uri = "file:///elsewhere"  # type: ignore[misc]


def test_an_upper_case_digest_is_kept_in_one_spelling() -> None:
    reference = ExternalPayloadReference.from_dict(_body(sha256=SHA.upper()))
    assert reference.sha256 == SHA
    assert reference == ExternalPayloadReference.from_dict(_body())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schema": "durable-workflow.v2.external-payload-reference.v2"}, "unsupported schema"),
        ({"schema": _DROP}, "missing field"),
        ({"uri": _DROP}, "missing field"),
        ({"uri": ""}, "uri"),
        ({"uri": 42}, "uri"),
        ({"uri": "file:///a\nb"}, "uri"),
        ({"uri": "s3://b/" + "k" * 2048}, "uri"),
        ({"sha256": "abc"}, "sha256"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"sha256": None}, "sha256"),
        ({"size_bytes": -1}, "size_bytes"),
        ({"size_bytes": "10"}, "size_bytes"),
        ({"size_bytes": 1.0}, "size_bytes"),
        ({"size_bytes": True}, "size_bytes"),
        ({"codec": ""}, "codec"),
        ({"codec": "a\nb"}, "codec"),
        ({"codec": None}, "codec"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": "2026-05-22"}, "expires_at"),
        ({"expires_at": "2026-05-22T00:00:00"}, "expires_at"),
        ({"expires_at": 1779408000}, "expires_at"),
    ],
)
def test_from_dict_refuses_malformed_references(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExternalPayloadReference.from_dict(_body(**overrides))


@pytest.mark.parametrize("data", [None, [], "s3://b/k", 7])
def test_from_dict_refuses_what_is_not_an_object(data: object) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        ExternalPayloadReference.from_dict(data)


def test_keys_the_schema_does_not_name_are_ignored() -> None:
    reference = ExternalPayloadReference.from_dict(_body(content_type="application/json"))
    assert reference == ExternalPayloadReference.from_dict(_body())
    assert "content_type" not in reference.to_dict()


def test_constructing_directly_validates_too() -> None:
    with pytest.raises(ValueError, match="sha256"):
        ExternalPayloadReference(uri="file:///x", sha256="nope", size_bytes=1, codec="avro")


def test_the_envelope_form_and_its_codec_rule() -> None:
    reference = ExternalPayloadReference.from_dict(_body(codec="avro"))
    envelope = reference.envelope()
    assert envelope == {"codec": "avro", "external_storage": reference.to_dict()}
    assert reference_from_envelope(envelope) == reference
    with pytest.raises(ValueError, match="differs from the reference codec"):
        reference_from_envelope({"codec": "json", "external_storage": reference.to_dict()})
    with pytest.raises(ValueError, match="not a"):
        reference_from_envelope({"codec": "avro", "external_storage": reference.to_dict(), "blob": "x"})


def test_stored_reference_reads_both_history_forms_and_passes_blobs_by() -> None:
    reference = ExternalPayloadReference.from_dict(_body(codec="avro"))
    prefixed = STORED_REFERENCE_PREFIX + base64.b64encode(json.dumps(reference.envelope()).encode()).decode()
    assert stored_reference(reference.envelope()) == reference
    assert stored_reference(prefixed) == reference
    assert stored_reference("AARbXQI=") is None
    assert stored_reference({"codec": "avro", "blob": "AARbXQI="}) is None
    assert stored_reference(None) is None
    with pytest.raises(ValueError):
        stored_reference(STORED_REFERENCE_PREFIX + "%%%")
    with pytest.raises(ValueError, match="unsupported schema"):
        stored_reference({"codec": "avro", "external_storage": _body(codec="avro", schema="v0")})
