"""One base-URL parser for both senders (``client/_http.py``'s ``parse_origin``).

The lean sender (a socket) and the ASGI sender (in process) must hand the server the same
request for the same base URL: the same Host, and the base URL's path kept in front of every
request path, percent-encoded the same way (a prefix with a space or a non-ASCII letter too).
"""

from __future__ import annotations

import pytest

from durable_workflow.client._http import UnsupportedProtocol, parse_origin
from durable_workflow.client._http_asgi import AsgiSender
from durable_workflow.client._http_pool import LeanSender

from .lean_servers import Seen, make_app, uvicorn_server

PREFIX = "/my dw/ü/a%2Fb"  # a space, a non-ASCII letter, an escape kept as it is
QUOTED = "/my%20dw/%C3%BC/a%2Fb"


def test_a_prefix_is_quoted_once_and_its_escapes_kept() -> None:
    origin = parse_origin(f"http://h.test:8080{PREFIX}/")
    assert origin.prefix == QUOTED
    assert (origin.scheme, origin.host, origin.port, origin.host_header) == (
        "http",
        "h.test",
        8080,
        "h.test:8080",
    )


def test_no_prefix_and_default_ports() -> None:
    assert parse_origin("http://h.test").prefix == ""
    assert parse_origin("http://h.test/").prefix == ""
    https = parse_origin("HTTPS://H.test:443")
    assert (https.scheme, https.host, https.port, https.host_header, https.tls) == (
        "https",
        "h.test",
        443,
        "h.test",
        True,
    )
    v6 = parse_origin("http://[::1]:8080/x")
    assert (v6.host, v6.host_header, v6.prefix) == ("::1", "[::1]:8080", "/x")


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://h.test", "http://", "http://h.test:notaport"])
def test_not_an_http_origin_is_refused_on_use(url: str) -> None:
    origin = parse_origin(url)
    with pytest.raises(UnsupportedProtocol):
        origin.require("/api/x")


async def _through_asgi(base: str, seen: Seen) -> None:
    sender = AsgiSender(make_app(seen), base, timeout=10)
    answer = await sender.send("GET", "/api/ok", None, {}, None, None)
    assert answer.status == 200
    await sender.aclose()


async def _through_socket(base: str) -> None:
    sender = LeanSender(base, timeout=10)
    assert (await sender.send("GET", "/api/ok", None, {}, None, None)).status == 200
    await sender.aclose()


@pytest.mark.parametrize("prefix", [PREFIX, ""])
async def test_both_senders_hand_the_server_the_same_path(prefix: str) -> None:
    with uvicorn_server() as (base, over_socket):
        await _through_socket(base + prefix)
    in_process = Seen()
    await _through_asgi(base + prefix, in_process)
    expected_raw = (QUOTED if prefix else "") + "/api/ok"
    assert over_socket.raw_paths == in_process.raw_paths == [expected_raw.encode("ascii")]
    assert over_socket.paths == in_process.paths == [("/my dw/ü/a/b" if prefix else "") + "/api/ok"]
    host = base.removeprefix("http://")
    assert over_socket.headers[0]["host"] == in_process.headers[0]["host"] == host
