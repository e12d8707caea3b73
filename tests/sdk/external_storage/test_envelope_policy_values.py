"""external_storage_envelope, external_storage_driver_from_policy and to_avro_payload_value."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from durable_workflow.external_storage import (
    AzureBlobExternalStorage,
    GCSExternalStorage,
    LocalFilesystemExternalStorage,
    S3ExternalStorage,
    external_storage_driver_from_policy,
    external_storage_envelope,
    fetch_external_payload,
    store_external_payload,
    to_avro_payload_value,
)
from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import resolve_external_envelope

from .fakes import FakeContainerClient, FakeGCSClient

# --------------------------------------------------------------------------- envelopes


def test_inline_up_to_the_threshold_then_external(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    blob = codec.encode("abc")
    assert external_storage_envelope("abc", external_storage=storage, threshold_bytes=len(blob)) == {
        "codec": "avro",
        "blob": blob,
    }
    assert list(tmp_path.iterdir()) == []
    stored = external_storage_envelope("abc", external_storage=storage, threshold_bytes=len(blob) - 1)
    assert set(stored) == {"codec", "external_storage"}
    assert resolve_external_envelope(stored, storage) == {"codec": "avro", "blob": blob}


def test_only_the_avro_codec_is_offered() -> None:
    assert external_storage_envelope([1], codec="avro") == codec.envelope([1])
    with pytest.raises(ValueError, match="not supported"):
        external_storage_envelope([1], codec="json")


def test_inline_needs_no_driver_but_crossing_the_threshold_does() -> None:
    assert external_storage_envelope([1], threshold_bytes=1024) == codec.envelope([1])
    with pytest.raises(ValueError, match="no external_storage driver"):
        external_storage_envelope("x" * 2000, threshold_bytes=1024)


@pytest.mark.parametrize("threshold", [0, -5, 2.5, "64", True, None])
def test_an_invalid_threshold_is_refused(tmp_path: Path, threshold: Any) -> None:
    with pytest.raises(ValueError, match="threshold_bytes"):
        external_storage_envelope(
            "x", external_storage=LocalFilesystemExternalStorage(tmp_path), threshold_bytes=threshold
        )


# --------------------------------------------------------------------------- policies


def test_a_local_policy_builds_a_filesystem_driver(tmp_path: Path) -> None:
    policy = {
        "driver": "local",
        "enabled": True,
        "threshold_bytes": 1024,
        "config": {"uri": tmp_path.as_uri()},
    }
    driver = external_storage_driver_from_policy(policy)
    assert isinstance(driver, LocalFilesystemExternalStorage) and driver.root == tmp_path
    reference = store_external_payload(driver, b"x", codec="avro")
    assert fetch_external_payload(driver, reference) == b"x"
    # A describe_namespace body (the policy nested in it) is read the same way.
    assert isinstance(external_storage_driver_from_policy({"external_payload_storage": policy}), type(driver))


def test_a_policy_object_with_attributes_works() -> None:
    @dataclasses.dataclass
    class Policy:
        driver: str
        enabled: bool
        config: dict[str, Any]

    client = FakeGCSClient()
    driver = external_storage_driver_from_policy(
        Policy("gcs", True, {"bucket": "payloads", "prefix": "billing"}), gcs_client=client
    )
    assert isinstance(driver, GCSExternalStorage)
    assert (driver.bucket, driver.prefix, driver.client) == ("payloads", "billing/", client)


def test_s3_and_azure_policies(s3_bucket: tuple[Any, str]) -> None:
    s3_client, bucket = s3_bucket
    s3 = external_storage_driver_from_policy(
        {"driver": "s3", "enabled": True, "config": {"disk": "payloads", "bucket": bucket, "prefix": "p/"}},
        s3_client=s3_client,
    )
    assert isinstance(s3, S3ExternalStorage) and (s3.bucket, s3.prefix) == (bucket, "p/")
    reference = store_external_payload(s3, b"over http", codec="avro")
    assert fetch_external_payload(s3, reference) == b"over http"

    container = FakeContainerClient("payloads")
    azure = external_storage_driver_from_policy(
        {"driver": "azure", "enabled": True, "config": {"bucket": "payloads"}},
        azure_container_client=container,
    )
    assert isinstance(azure, AzureBlobExternalStorage) and azure.container == "payloads"


@pytest.mark.parametrize(
    ("policy", "clients", "message"),
    [
        ({"driver": "local", "enabled": False, "config": {"uri": "file:///tmp"}}, {}, "disabled"),
        ({"driver": "s3", "enabled": False}, {"s3_client": object()}, "disabled"),
        ({"driver": "ftp", "enabled": True}, {}, "unsupported"),
        ({"driver": None, "enabled": True}, {}, "unsupported"),
        ({"driver": "local", "enabled": True}, {}, "local_root="),
        ({"driver": "local", "enabled": True, "config": {"uri": ""}}, {}, "local_root="),
        ({"driver": "local", "enabled": True, "config": {"uri": "s3://b/x"}}, {}, "file:// URI"),
        ({"external_payload_storage": None, "name": "billing"}, {}, "no external_payload_storage policy"),
        ({"driver": "s3", "enabled": True, "config": {"bucket": "b"}}, {}, "s3_client"),
        ({"driver": "s3", "enabled": True, "config": {}}, {"s3_client": object()}, "config.bucket"),
        (
            {"driver": "gcs", "enabled": True, "config": {"bucket": "b"}},
            {"s3_client": object()},
            "gcs_client",
        ),
        ({"driver": "azure", "enabled": True, "config": {"bucket": "c"}}, {}, "azure_container_client"),
        (
            {"driver": "azure", "enabled": True},
            {"azure_container_client": FakeContainerClient("c")},
            "container",
        ),
        (
            {"driver": "azure", "enabled": True, "config": {"bucket": "other"}},
            {"azure_container_client": FakeContainerClient("c")},
            "is for container",
        ),
        ({"driver": "s3", "enabled": True, "config": "b"}, {"s3_client": object()}, "config must be"),
        (None, {}, "no external_payload_storage policy"),
        (object(), {}, "not an external_payload_storage policy"),
    ],
)
def test_unusable_policies_are_refused(policy: Any, clients: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        external_storage_driver_from_policy(policy, **clients)


# --------------------------------------------------------------------------- values


class Tier(enum.Enum):
    GOLD = "gold"


class Count(enum.IntEnum):
    TWO = 2


@dataclasses.dataclass
class Line:
    sku: str
    quantity: int
    price: Decimal


def test_rich_values_become_json_native_values() -> None:
    value = {
        "tier": Tier.GOLD,
        "count": Count.TWO,
        "at": datetime(2026, 5, 22, 12, 30, tzinfo=timezone.utc),
        "day": date(2026, 5, 22),
        "time": time(7, 5),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lines": (Line("A-1", 2, Decimal("9.90")),),
        "tags": {"b", "a", "c"},
        "pdf": b"%PDF",
        3: None,
        Tier.GOLD: 1.5,
    }
    assert to_avro_payload_value(value) == {
        "tier": "gold",
        "count": 2,
        "at": "2026-05-22T12:30:00+00:00",
        "day": "2026-05-22",
        "time": "07:05:00",
        "id": "12345678-1234-5678-1234-567812345678",
        "lines": [{"sku": "A-1", "quantity": 2, "price": "9.90"}],
        "tags": ["a", "b", "c"],
        "pdf": "JVBERg==",
        "3": None,
        "gold": 1.5,
    }
    # And the result encodes, and round-trips through a payload unchanged.
    converted = to_avro_payload_value(value)
    assert codec.decode(codec.encode(converted)) == converted


def test_pydantic_style_models_are_dumped() -> None:
    class Model:
        def model_dump(self, *, mode: str) -> dict[str, Any]:
            assert mode == "json"
            return {"name": "n", "when": "2026-01-01"}

    assert to_avro_payload_value([Model()]) == [{"name": "n", "when": "2026-01-01"}]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (object(), TypeError),
        ({(1, 2): "tuple key"}, TypeError),
        ({1: "a", "1": "b"}, TypeError),
        ({1, "a"}, TypeError),
        (float("nan"), ValueError),
        ([float("inf")], ValueError),
        (Line, TypeError),
    ],
)
def test_values_without_a_json_form_are_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_avro_payload_value(value)


def test_policy_parity_with_sdk_0_4_84(tmp_path: Path) -> None:
    # A local policy without config.uri (the server's default directory) takes local_root=,
    # which also wins over config.uri.
    local = external_storage_driver_from_policy({"driver": "local", "enabled": True}, local_root=tmp_path)
    assert isinstance(local, LocalFilesystemExternalStorage) and local.root == tmp_path
    other = external_storage_driver_from_policy(
        {"driver": "LOCAL", "enabled": True, "config": {"uri": "file:///elsewhere"}}, local_root=tmp_path
    )
    assert isinstance(other, LocalFilesystemExternalStorage) and other.root == tmp_path
    # Azure reads config.container before config.bucket, and "azure-blob" names it too.
    container = FakeContainerClient("payloads")
    azure = external_storage_driver_from_policy(
        {"driver": "Azure-Blob", "enabled": True, "config": {"container": "payloads", "bucket": "ignored"}},
        azure_container_client=container,
    )
    assert isinstance(azure, AzureBlobExternalStorage) and azure.container == "payloads"
