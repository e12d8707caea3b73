"""The seam between the client's request path and an HTTP implementation.

``BaseClient._request`` builds one request (method, path, query, headers, body, timeout) and hands
it to an :class:`HttpSender`; what comes back is an :class:`HttpResponse` (status, headers, body
bytes) or one of the transport errors below. Three senders exist:

- the lean keep-alive HTTP/1.1 client of ``_http_pool`` (asyncio Protocol + httptools parsing),
  the default: 0.04-0.06 ms of client CPU per ``_request`` against httpx's 0.6-1.3 ms
  (``benchmarks/http_client.py``);
- :class:`HttpxSender`, an ``httpx.AsyncClient`` over a caller's transport (``transport=``:
  ``MockTransport``, ``ASGITransport``, the CLI's ``verify=False`` transport), exactly as before;
- ``_http_asgi.AsgiSender`` (``asgi_app=``): an ASGI app in this process called directly, no
  socket and no httpx (in-process mode).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from ..errors import PayloadError

if TYPE_CHECKING:
    import httpx

    from ._http_asgi import AsgiApp

__all__ = [
    "ConnectError",
    "ConnectTimeout",
    "HttpError",
    "HttpResponse",
    "HttpSender",
    "HttpxSender",
    "LocalProtocolError",
    "Origin",
    "PoolTimeout",
    "ReadTimeout",
    "RemoteProtocolError",
    "UnsupportedProtocol",
    "fill_route",
    "json_body",
    "make_sender",
    "parse_origin",
    "query_value",
]


# The parts of a request, built by BaseClient._request.


def json_body(body: Any, route: str) -> bytes:
    """The UTF-8 JSON of a request body; a string that UTF-8 cannot hold is a ``PayloadError``."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Free text (failure messages) is cleaned before it gets here; what is left is an
        # identifier or a value the caller chose, which must not be altered silently.
        raise PayloadError(
            f"the request body of {route} holds a string that is not valid Unicode "
            f"(a lone surrogate such as {text[exc.start : exc.end]!a})"
        ) from exc


def fill_route(route: str, params: Mapping[str, str] | None) -> str:
    """Put percent-encoded identifiers into a route template such as ``/workflows/{workflow_id}``."""
    if not params:
        return route
    # ``:`` and ``@`` are legal in a path segment and common in ids; ``/`` is not.
    return route.format(**{k: quote(str(v), safe="-._~:@") for k, v in params.items()})


def query_value(value: Any) -> str:
    """A query parameter's text (booleans as ``true`` / ``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Characters of a base URL's path kept as they are; everything else is percent-encoded (``%``
# too is kept, so a path written already encoded is not encoded twice), as httpx does.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a sender's requests go, read once from the client's base URL by :func:`parse_origin`.

    ``prefix`` is the base URL's own path, percent-encoded, without its trailing ``/``: it is
    put in front of every request path (httpx does the same). ``scheme`` is ``""`` for a base
    URL whose port is not a number; :meth:`require` refuses such an origin on first use, as a
    base URL that is not ``http://`` or ``https://`` is refused.
    """

    base_url: str
    scheme: str
    host: str
    port: int
    host_header: str
    prefix: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    def require(self, path: str) -> None:
        """Raise ``UnsupportedProtocol`` unless requests can go to this origin."""
        if self.scheme not in ("http", "https") or not self.host:
            raise UnsupportedProtocol(
                f"Request URL {self.base_url + path!r} has no http:// or https:// origin"
            )


def parse_origin(base_url: str) -> Origin:
    """The scheme, host, port, ``Host`` header and quoted path prefix of ``base_url``."""
    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    default_port = 443 if scheme == "https" else 80
    try:
        port = parts.port
    except ValueError:  # reported by the first request, as a bad scheme is
        port = None
        scheme = ""
    shown = f"[{host}]" if ":" in host else host
    return Origin(
        base_url=base_url,
        scheme=scheme,
        host=host,
        port=port or default_port,
        host_header=shown if port in (None, default_port) else f"{shown}:{port}",
        prefix=quote(parts.path.rstrip("/"), safe=_PATH_SAFE),
    )


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One HTTP answer: status, headers (names lower-cased, repeats joined by ``, ``), decoded body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), ``None`` when absent."""
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        """The body as text (UTF-8 unless the content type names a charset; bad bytes replaced)."""
        charset = "utf-8"
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


# The lean sender's errors. Their names follow httpx's, so the TransportError messages built from
# ``type(exc).__name__`` read the same on both paths; the timeouts are also ``TimeoutError``s.


class HttpError(Exception):
    """A request could not be completed at the transport level (no usable HTTP answer)."""


class UnsupportedProtocol(HttpError):
    """The base URL is not an ``http://`` or ``https://`` origin."""


class ConnectError(HttpError):
    """The TCP (or TLS) connection could not be opened."""


class LocalProtocolError(HttpError):
    """The request cannot be written as HTTP/1.1 (a CR or LF in a header value)."""


class RemoteProtocolError(HttpError):
    """The server closed the connection early or answered something that is not HTTP/1.1.

    ``sent`` tells whether the request bytes had been handed to the socket; ``answered`` whether
    any response byte had arrived. Together they say whether the request may have been processed.
    """

    def __init__(self, message: str, *, sent: bool = True, answered: bool = False) -> None:
        super().__init__(message)
        self.sent = sent
        self.answered = answered


class ConnectTimeout(HttpError, TimeoutError):
    """The connection was not open within the timeout."""


class ReadTimeout(HttpError, TimeoutError):
    """No response byte arrived for a whole timeout."""


class PoolTimeout(HttpError, TimeoutError):
    """Every pooled connection stayed busy for a whole timeout."""


class HttpSender(Protocol):
    """What ``BaseClient._request`` needs from an HTTP implementation."""

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> HttpResponse:
        """Send one request to ``base_url + path`` and return the complete answer.

        ``timeout`` overrides the sender's default (a long poll). Raises :class:`HttpError` (lean)
        or ``httpx.TransportError`` (httpx) when no answer could be had.
        """
        ...

    async def aclose(self) -> None:
        """Close every connection; safe to call twice."""
        ...


class HttpxSender:
    """The httpx path: an ``httpx.AsyncClient`` over the caller's transport."""

    def __init__(self, base_url: str, *, timeout: float, transport: httpx.AsyncBaseTransport | None) -> None:
        import httpx

        self._httpx = httpx
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> HttpResponse:
        """See :meth:`HttpSender.send`; httpx's own errors reach the caller unchanged."""
        httpx = self._httpx
        response = await self.client.request(
            method,
            path,
            content=body,
            params=query or None,
            headers=headers,
            timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        return HttpResponse(response.status_code, dict(response.headers.items()), response.content)

    async def aclose(self) -> None:
        """Close the httpx client."""
        await self.client.aclose()


def _proxy_configured(base_url: str) -> bool:
    """Whether httpx would read a proxy for ``base_url`` from the environment (it honours
    HTTP(S)_PROXY / ALL_PROXY and NO_PROXY; the lean sender speaks to the origin only)."""
    scheme = base_url.partition("://")[0].lower()
    names = ("all_proxy", f"{scheme}_proxy") if scheme in ("http", "https") else ("all_proxy",)
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


def make_sender(
    base_url: str,
    *,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None,
    asgi_app: AsgiApp | None = None,
) -> HttpSender:
    """The ASGI sender when an app is given; else the lean sender; the httpx one when a transport
    is given, a proxy is configured in the environment (httpx then applies it and NO_PROXY as
    before), or httptools is missing."""
    if asgi_app is not None:
        from ._http_asgi import AsgiSender

        return AsgiSender(asgi_app, base_url, timeout=timeout)
    if transport is None and not _proxy_configured(base_url):
        try:
            from ._http_pool import LeanSender
        except ImportError:  # httptools has no wheel for this platform: httpx still works
            pass
        else:
            return LeanSender(base_url, timeout=timeout)
    return HttpxSender(base_url, timeout=timeout, transport=transport)
