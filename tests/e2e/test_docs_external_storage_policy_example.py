"""The product docs' second External Payload Storage example, on the real app: the driver a
namespace's policy describes, built from ``describe_namespace`` with an application-owned S3
client (boto3 against a real S3-compatible server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from durable_workflow import Client
from durable_workflow.external_storage import (
    S3ExternalStorage,
    fetch_external_payload,
    store_external_payload,
)
from tests.helpers.s3_server import s3_client, s3_server


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


async def test_the_driver_from_a_namespace_policy(client: Client, s3_endpoint: str) -> None:
    application_owned_s3_client = s3_client(s3_endpoint)
    application_owned_s3_client.create_bucket(Bucket="dw-payloads")
    await client.create_namespace("billing")
    await client.set_namespace_external_storage(
        "billing",
        driver="s3",
        threshold_bytes=64 * 1024,
        config={"disk": "external-payload-objects", "bucket": "dw-payloads", "prefix": "billing/"},
    )

    # -- the docs' example, unchanged ---------------------------------------------------------
    from durable_workflow.external_storage import external_storage_driver_from_policy

    namespace = await client.describe_namespace("billing")
    driver = external_storage_driver_from_policy(
        namespace.external_payload_storage,
        s3_client=application_owned_s3_client,
    )
    # -----------------------------------------------------------------------------------------

    assert isinstance(driver, S3ExternalStorage)
    assert (driver.bucket, driver.prefix) == ("dw-payloads", "billing/")
    reference = store_external_payload(driver, b"invoice", codec="avro")
    assert reference.uri.startswith("s3://dw-payloads/billing/")
    assert fetch_external_payload(driver, reference) == b"invoice"


async def test_a_disabled_policy_gives_no_driver(client: Client) -> None:
    from durable_workflow.external_storage import external_storage_driver_from_policy

    await client.set_namespace_external_storage(
        "default", driver="local", enabled=False, config={"uri": "file:///tmp/never"}
    )
    namespace = await client.describe_namespace("default")
    assert namespace.external_payload_storage is not None
    with pytest.raises(ValueError, match="disabled"):
        external_storage_driver_from_policy(namespace.external_payload_storage)
    with pytest.raises(ValueError, match="no external_payload_storage policy"):
        external_storage_driver_from_policy((await client.create_namespace("plain")).external_payload_storage)
    # The description itself is accepted too, and read the same way.
    with pytest.raises(ValueError, match="disabled"):
        external_storage_driver_from_policy(namespace)
