"""``Client`` on its default (lean) sender against real servers: the request path behaves as on httpx.

Retries of refused connections and of 5xx answers, timeouts, redirect refusal, error envelopes,
non-JSON bodies, version checks, https with verified TLS, and the choice of sender.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client
from durable_workflow.client._http import HttpxSender
from durable_workflow.client._http_pool import LeanSender
from durable_workflow.errors import ServerError, TransportError, WorkflowNotFound
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow_cli.errors import ExitCode, from_exception
from tests.helpers.server_process import free_port

from .lean_servers import RawServer, uvicorn_server

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the lean path, which a proxy in the environment would turn off."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _policy(sleeps: Any, attempts: int = 3) -> TransportRetryPolicy:
    return TransportRetryPolicy(max_attempts=attempts, sleep=sleeps, random=lambda: 0.5)


def test_the_sender_is_lean_by_default_and_httpx_with_a_transport() -> None:
    assert isinstance(Client("http://dw.test")._sender, LeanSender)
    injected = Client("http://dw.test", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert isinstance(injected._sender, HttpxSender)
    assert injected._http is injected._sender.client


async def test_calls_go_over_one_keep_alive_connection(sleeps: Any) -> None:
    with uvicorn_server() as (base, seen):
        async with Client(base, token="tok", namespace="orders", retry_policy=_policy(sleeps)) as client:
            for _ in range(3):
                assert await client._request("POST", "/echo", body={"a": 1}) == {"size": 7, "body": '{"a":1}'}
            assert await client._request("GET", "/ok", params={"x": None, "flag": True}) == {"ok": True}
    assert len(set(seen.ports)) == 1
    sent = seen.headers[0]
    assert sent["authorization"] == "Bearer tok"
    assert sent["x-namespace"] == "orders"
    assert sent["x-durable-workflow-control-plane-version"] == "2"
    assert sent["content-type"] == "application/json"
    assert seen.queries[-1] == b"flag=true"


async def test_refused_connections_are_retried_then_raise(sleeps: Any) -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", retry_policy=_policy(sleeps))
    with pytest.raises(TransportError, match=r"after 3 attempt.*ConnectError"):
        await client.health()
    assert sleeps.delays == pytest.approx([0.1, 0.2])
    await client.aclose()


async def test_a_timeout_is_a_transport_error_the_cli_reports_as_one(sleeps: Any) -> None:
    with uvicorn_server() as (base, _seen):
        async with Client(base, retry_policy=_policy(sleeps, attempts=2)) as client:
            with pytest.raises(TransportError, match="ReadTimeout") as info:
                await client._request("POST", "/hold", body={}, timeout=0.2)
    assert isinstance(info.value.__cause__, TimeoutError)
    reported = from_exception(info.value, server=base)
    assert reported is not None and reported.exit_code is ExitCode.TIMEOUT


async def test_5xx_is_retried_and_4xx_envelopes_are_typed(sleeps: Any) -> None:
    with uvicorn_server() as (base, seen):
        async with Client(base, retry_policy=_policy(sleeps)) as client:
            with pytest.raises(ServerError, match="200 with a non-JSON body"):
                await client._request("GET", "/text", timeout=5)
            with pytest.raises(ServerError) as failed:
                await client._request("GET", "/text", params={"status": 503})
            assert failed.value.status_code == 503
            assert failed.value.body == "plain words"
            assert seen.paths.count("/api/text") == 4
            with pytest.raises(WorkflowNotFound) as missing:
                await client._request("GET", "/missing")
            assert missing.value.reason == "instance_not_found"


async def test_redirects_and_foreign_versions_are_refused(sleeps: Any) -> None:
    with uvicorn_server() as (base, _seen):
        async with Client(base, retry_policy=_policy(sleeps)) as client:
            with pytest.raises(ServerError, match=r"redirected.*307.*elsewhere\.test"):
                await client._request("POST", "/redirect", body={})
            with pytest.raises(ServerError, match="control plane '9'"):
                await client._request("GET", "/bad-version")


async def test_chunked_and_gzip_answers_decode(sleeps: Any) -> None:
    with uvicorn_server() as (base, _seen):
        async with Client(base, retry_policy=_policy(sleeps)) as client:
            assert await client._request("GET", "/chunked") == {"parts": [1, 2, 3]}
            assert await client._request("GET", "/gzip") == {"zipped": "z" * 5000}


async def test_a_post_lost_on_a_stale_connection_goes_to_the_retry_policy(sleeps: Any) -> None:
    # Sent, then the server closed without a byte: the sender does not resend it by itself; a
    # one-attempt policy surfaces it, so the server has seen it exactly once.
    server = RawServer(["answer", "close"])
    async with server as base:
        async with Client(base, retry_policy=_policy(sleeps, attempts=1)) as client:
            await client._request("POST", "/first", body={})
            with pytest.raises(TransportError, match="RemoteProtocolError"):
                await client._request("POST", "/signal", body={})
    assert [line for _, line in server.requests] == [
        b"POST /api/first HTTP/1.1",
        b"POST /api/signal HTTP/1.1",
    ]


async def test_an_origin_without_scheme_fails_at_once(sleeps: Any) -> None:
    async with Client("localhost:8080", retry_policy=_policy(sleeps)) as client:
        with pytest.raises(TransportError, match="base_url must be an http"):
            await client.health()
    assert sleeps.delays == []


# --------------------------------------------------------------------------- https


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    yield cert_file, key_file


async def test_https_verifies_the_server_certificate(
    certificate: tuple[Path, Path], sleeps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_file, key_file = certificate
    with uvicorn_server(ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as (base, seen):
        assert base.startswith("https://")
        # The default trust store does not know a self-signed certificate: refused.
        async with Client(base, retry_policy=_policy(sleeps, attempts=1)) as client:
            with pytest.raises(TransportError) as info:
                await client.health()
        assert isinstance(info.value.__cause__.__cause__, ssl.SSLCertVerificationError)  # type: ignore[union-attr]
        # Trusted through SSL_CERT_FILE, as httpx reads it: served, over one connection.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        async with Client(base, retry_policy=_policy(sleeps, attempts=1)) as client:
            assert await client._request("POST", "/echo", body={"tls": True}) == {
                "size": 12,
                "body": '{"tls":true}',
            }
            assert await client._request("GET", "/gzip") == {"zipped": "z" * 5000}
    assert len(set(seen.ports)) == 1


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_in_the_environment_keeps_the_httpx_path(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")  # not for an http:// origin
    assert isinstance(Client("http://dw.test")._sender, LeanSender)
    monkeypatch.setenv(variable, "http://proxy.test:3128")
    assert isinstance(Client("http://dw.test")._sender, HttpxSender)
