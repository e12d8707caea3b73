"""Fixtures for the external-storage tests: one S3-compatible server per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.s3_server import s3_client, s3_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> tuple[Any, str]:
    """A boto3 client and a fresh, empty bucket on the session's S3 server."""
    client = s3_client(s3_endpoint)
    bucket = f"dw-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket
