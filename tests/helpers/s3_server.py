"""A real S3-compatible server (moto in server mode) on a free loopback port, and clients for it.

The S3 drivers of the SDK and the server are tested against it over real HTTP, so what they
send is what an S3 endpoint accepts. moto and boto3 are test-only dependencies (the ``dev``
extra); nothing in src imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.helpers.server_process import free_port


@contextmanager
def s3_server() -> Iterator[str]:
    """Run moto's S3 server for the duration of the block; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()  # returns once the socket accepts connections
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint_url: str) -> Any:
    """A boto3 S3 client for ``endpoint_url`` with throwaway credentials."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
