"""S3 (against a real S3-compatible server), GCS and Azure (in-memory client fakes) drivers."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow.protocol.payload_storage import (
    AzureBlobExternalStorage,
    ExternalPayloadIntegrityError,
    ExternalStorageDriver,
    GCSExternalStorage,
    S3ExternalStorage,
    delete_external_payload,
    fetch_external_payload,
    store_external_payload,
)

from .fakes import FakeContainerClient, FakeGCSClient

# --------------------------------------------------------------------------- S3 (moto server)


def test_s3_round_trip_over_http(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    storage = S3ExternalStorage(client, bucket=bucket, prefix="billing")
    assert isinstance(storage, ExternalStorageDriver)
    data = b"\x00payload" * 1000
    reference = store_external_payload(storage, data, codec="avro")
    assert reference.uri.startswith(f"s3://{bucket}/billing/")
    assert reference.uri.endswith(".avro")
    key = reference.uri.removeprefix(f"s3://{bucket}/")
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["Metadata"] == {"sha256": reference.sha256, "codec": "avro"}
    assert fetch_external_payload(storage, reference) == data
    delete_external_payload(storage, reference)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    with pytest.raises(ExternalPayloadIntegrityError) as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "missing"
    storage.delete(reference.uri)  # S3 deletes of a missing key succeed


def test_s3_detects_a_mutated_object(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    storage = S3ExternalStorage(client, bucket=bucket)
    reference = store_external_payload(storage, b"original", codec="avro")
    client.put_object(Bucket=bucket, Key=reference.uri.removeprefix(f"s3://{bucket}/"), Body=b"0riginal")
    with pytest.raises(ExternalPayloadIntegrityError) as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "sha256_mismatch"


def test_s3_refuses_foreign_buckets_and_prefixes(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    storage = S3ExternalStorage(client, bucket=bucket, prefix="billing/")
    for uri in (
        "s3://other-bucket/billing/x.avro",
        f"s3://{bucket}/payroll/x.avro",
        f"s3://{bucket}/billing/",
        f"s3://{bucket}/billingx/y.avro",
        f"gs://{bucket}/billing/x.avro",
        # Dot, empty and control-character segments: some HTTP stacks collapse "..".
        f"s3://{bucket}/billing/../payroll/x.avro",
        f"s3://{bucket}/billing%2F..%2Fpayroll/x.avro",
        f"s3://{bucket}/billing/./x.avro",
        f"s3://{bucket}/billing//x.avro",
        f"s3://{bucket}/billing/x%00.avro",
        f"s3://{bucket}/billing/x%0A.avro",
    ):
        for call in (storage.get, storage.delete):
            with pytest.raises(ValueError):
                call(uri)


class _S3Answering:
    """A boto3-shaped client whose get_object answers what the test says."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def get_object(self, **_: Any) -> Any:
        return self.answer


class _Body:
    def __init__(self, data: Any) -> None:
        self.data = data

    def read(self) -> Any:
        return self.data


@pytest.mark.parametrize(
    "answer", [{"Body": _Body("text")}, {"Body": None}, {}, "nope", {"Body": _Body(None)}]
)
def test_s3_refuses_non_byte_responses(answer: Any) -> None:
    storage = S3ExternalStorage(_S3Answering(answer), bucket="b")
    with pytest.raises(ValueError, match="not bytes"):
        storage.get("s3://b/x.avro")


def test_s3_client_errors_that_are_not_not_found_propagate() -> None:
    class Denied(Exception):
        response = {"Error": {"Code": "AccessDenied"}}

    class Client:
        def get_object(self, **_: Any) -> Any:
            raise Denied("no")

    with pytest.raises(Denied):
        S3ExternalStorage(Client(), bucket="b").get("s3://b/x.avro")


@pytest.mark.parametrize("prefix", ["a//b", "../x", "a/./b"])
def test_object_stores_refuse_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        S3ExternalStorage(object(), bucket="b", prefix=prefix)


@pytest.mark.parametrize("bucket", ["", "a/b"])
def test_object_stores_refuse_bad_bucket_names(bucket: str) -> None:
    with pytest.raises(ValueError, match="bucket"):
        S3ExternalStorage(object(), bucket=bucket)


# --------------------------------------------------------------------------- GCS (fake client)


def test_gcs_round_trip_and_missing_object() -> None:
    client = FakeGCSClient()
    storage = GCSExternalStorage(client, bucket="dw-payloads", prefix="/billing/")
    reference = store_external_payload(storage, b"gcs-bytes", codec="avro")
    assert reference.uri.startswith("gs://dw-payloads/billing/")
    ((bucket, key),) = client.objects
    assert bucket == "dw-payloads" and reference.uri == f"gs://dw-payloads/{key}"
    assert fetch_external_payload(storage, reference) == b"gcs-bytes"
    delete_external_payload(storage, reference)
    assert client.objects == {}
    storage.delete(reference.uri)  # NotFound on delete is swallowed
    with pytest.raises(ExternalPayloadIntegrityError) as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "missing"


def test_gcs_refuses_foreign_references_and_non_bytes() -> None:
    client = FakeGCSClient()
    storage = GCSExternalStorage(client, bucket="dw-payloads", prefix="billing")
    with pytest.raises(ValueError, match="not this driver"):
        storage.get("gs://elsewhere/billing/x.avro")
    with pytest.raises(ValueError, match="prefix"):
        storage.get("gs://dw-payloads/other/x.avro")
    client.objects[("dw-payloads", "billing/x.avro")] = "a str"
    with pytest.raises(ValueError, match="not bytes"):
        storage.get("gs://dw-payloads/billing/x.avro")


# --------------------------------------------------------------------------- Azure (fake client)


def test_azure_round_trip_and_missing_object() -> None:
    container = FakeContainerClient("payloads")
    storage = AzureBlobExternalStorage(container, prefix="billing")
    assert storage.container == "payloads"
    reference = store_external_payload(storage, b"azure-bytes", codec="avro")
    assert reference.uri.startswith("azure-blob://payloads/billing/")
    assert fetch_external_payload(storage, reference) == b"azure-bytes"
    delete_external_payload(storage, reference)
    assert container.blobs == {}
    storage.delete(reference.uri)
    with pytest.raises(ExternalPayloadIntegrityError) as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "missing"


def test_azure_refuses_foreign_containers_prefixes_and_non_bytes() -> None:
    container = FakeContainerClient("payloads")
    storage = AzureBlobExternalStorage(container, container="payloads", prefix="billing")
    with pytest.raises(ValueError, match="not this driver"):
        storage.get("azure://other/billing/x.avro")
    with pytest.raises(ValueError, match="prefix"):
        storage.delete("azure://payloads/x.avro")
    container.blobs["billing/x.avro"] = bytearray(b"ok")
    assert storage.get("azure://payloads/billing/x.avro") == b"ok"
    container.blobs["billing/y.avro"] = 12
    with pytest.raises(ValueError, match="not bytes"):
        storage.get("azure://payloads/billing/y.avro")


def test_azure_reads_the_older_azure_scheme_too() -> None:
    container = FakeContainerClient("payloads")
    container.blobs["billing/x.avro"] = b"old"
    storage = AzureBlobExternalStorage(container, prefix="billing")
    assert storage.get("azure://payloads/billing/x.avro") == b"old"
    assert storage.get("azure-blob://payloads/billing/x.avro") == b"old"
    with pytest.raises(ValueError, match="segment"):
        storage.get("azure-blob://payloads/billing/../other/x.avro")


def test_gcs_and_azure_refuse_dot_segments() -> None:
    gcs = GCSExternalStorage(FakeGCSClient(), bucket="b", prefix="tenant-a")
    azure = AzureBlobExternalStorage(FakeContainerClient("c"), prefix="tenant-a")
    for storage, uri in ((gcs, "gs://b/tenant-a/../tenant-b/x"), (azure, "azure-blob://c/tenant-a/./x")):
        for call in (storage.get, storage.delete):
            with pytest.raises(ValueError, match="segment"):
                call(uri)


def test_azure_needs_a_container_name() -> None:
    with pytest.raises(ValueError, match="container"):
        AzureBlobExternalStorage(object())
