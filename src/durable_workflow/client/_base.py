"""HTTP transport of the client: URLs, headers, auth, retries, metrics, errors (payloads: _payloads.py)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from .._external_payloads import PayloadResolver
from ..errors import PayloadError, ServerError, TransportError
from ..metrics import CLIENT_REQUEST_DURATION_SECONDS, CLIENT_REQUESTS, MetricsRecorder, NoopMetrics
from ..protocol import versions
from ..protocol.capabilities import RESULT_WAIT_HEADER
from ..protocol.errors import INVALID_PAYLOAD_FRAMING
from ..protocol.payload_storage import (
    ExternalPayloadCache,
    ExternalStorageDriver,
)
from ..protocol.routes import API_PREFIX
from ..retry_policy import DEFAULT_RETRY_POLICY, TransportRetryPolicy
from ._errors import exception_for
from ._http import (
    HttpError,
    HttpResponse,
    HttpSender,
    HttpxSender,
    UnsupportedProtocol,
    fill_route,
    json_body,
    make_sender,
    query_value,
)
from ._http_asgi import AsgiApp
from ._payloads import Arguments, PayloadsMixin

__all__ = ["Arguments", "BaseClient", "Plane", "versions_mismatch_reason"]

logger = logging.getLogger("durable_workflow.client")

Plane = Literal["control", "worker"]

DEFAULT_PAYLOAD_SIZE_LIMIT_BYTES = 2_097_152
DEFAULT_PAYLOAD_WARNING_THRESHOLD_PERCENT = 80
# The HTTP read timeout of a long poll must outlast the server's hold time.
MIN_POLL_TIMEOUT_SECONDS = 35.0
POLL_TIMEOUT_MARGIN_SECONDS = 5.0

# Outcome tag values of durable_workflow_client_requests.
OUTCOME_SUCCESS = "success"
OUTCOME_HTTP_ERROR = "http_error"
OUTCOME_TRANSPORT_ERROR = "transport_error"

_JSON = "application/json"
# What a sender raises when no answer could be had: the lean path's errors, httpx's on its path.
_TRANSPORT_ERRORS = (HttpError, httpx.TransportError)
_UNSUPPORTED_ORIGIN = (UnsupportedProtocol, httpx.UnsupportedProtocol)


class BaseClient(PayloadsMixin):
    """Connection state and the single request path every client method goes through.

    Encoding and checking the payloads it sends, and decoding those it gets, are
    :class:`~._payloads.PayloadsMixin`'s.
    """

    # The public attributes, set by __init__ (``sync.Client`` forwards each one; its generated
    # properties are read from these annotations).
    base_url: str
    namespace: str
    timeout: float
    retry_policy: TransportRetryPolicy
    metrics: MetricsRecorder
    payload_size_limit_bytes: int
    payload_size_warning_threshold_percent: int
    payload_size_warnings: bool
    external_storage: ExternalStorageDriver | None
    external_storage_threshold_bytes: int | None
    external_storage_cache: ExternalPayloadCache | None
    # What resolves external-storage references in received bodies (``None`` without a driver);
    # the Worker hands it to its task handlers.
    payload_resolver: PayloadResolver | None
    server_long_poll_timeout: float | None
    plain_json_payloads: bool
    # The longest result wait the server offers (its RESULT_WAIT_HEADER on start and describe
    # answers); ``None`` until a server said so (see _result_wait.py).
    _result_wait_hold: float | None = None

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        control_token: str | None = None,
        worker_token: str | None = None,
        namespace: str = versions.DEFAULT_NAMESPACE,
        timeout: float = 60.0,
        retry_policy: TransportRetryPolicy | None = None,
        metrics: MetricsRecorder | None = None,
        payload_size_limit_bytes: int = DEFAULT_PAYLOAD_SIZE_LIMIT_BYTES,
        payload_size_warning_threshold_percent: int = DEFAULT_PAYLOAD_WARNING_THRESHOLD_PERCENT,
        payload_size_warnings: bool = True,
        external_storage: ExternalStorageDriver | None = None,
        external_storage_threshold_bytes: int | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        plain_json_payloads: bool = False,
        asgi_app: AsgiApp | None = None,
    ) -> None:
        """Create a client; no connection is made until the first call.

        Args:
            base_url: Server origin without ``/api`` (e.g. ``http://localhost:8080``).
            token: Bearer token used for every call when no plane-specific token is given.
            control_token: Token for control-plane calls (falls back to ``token``, then ``worker_token``).
            worker_token: Token for ``/worker/*`` calls (falls back to ``token``, then ``control_token``).
            namespace: Sent as ``X-Namespace`` on every request.
            timeout: HTTP timeout in seconds for ordinary calls.
            retry_policy: Transport retry policy; :class:`TransportRetryPolicy` defaults when omitted.
            metrics: Recorder for request counters/histograms; no-op when omitted.
            payload_size_limit_bytes: Encoded payloads larger than this raise :class:`PayloadTooLarge`
                before anything is sent (the server would answer 413).
            payload_size_warning_threshold_percent: Share of the limit above which a
                :class:`PayloadSizeWarning` is emitted (and logged).
            payload_size_warnings: Set ``False`` to silence the warnings (the limit still applies).
            external_storage: A driver (e.g. ``LocalFilesystemExternalStorage``, ``S3ExternalStorage``)
                for large payloads: workflow, signal, query and update input whose encoded blob is
                larger than ``external_storage_threshold_bytes`` (and, for a Worker on this client,
                workflow command payloads and activity results) is uploaded through it and sent as
                a ``{codec, external_storage}`` reference (the payload limit then does not apply:
                the request carries only the reference; the server must reach the same storage).
                References in what the client reads (describe, results, history, worker tasks)
                are resolved through it and verified; without a driver they cannot be decoded.
            external_storage_threshold_bytes: Encoded size above which payloads are stored
                externally. ``None`` (the default) never stores: a driver alone only resolves
                references, as in SDK 0.4.84; both together also offload.
            external_storage_cache: Cache of verified payload bytes (a worker replaying a history
                reads each stored payload once); a 128-entry, 16 MiB one when a driver is given.
            transport: Custom httpx transport, e.g. ``httpx.MockTransport`` or an ASGI transport;
                requests then go through ``httpx.AsyncClient``. Without one the client uses its
                own keep-alive HTTP/1.1 pool (http:// and https:// with verified TLS), unless
                the environment names a proxy (``HTTPS_PROXY``...): httpx applies it then.
            plain_json_payloads: Send caller payloads (workflow, signal, query and update input,
                a schedule action's input, an activity result) as the plain JSON values given,
                not as Avro envelopes. This is what the ``dw`` CLI sends; the server accepts both
                and stores the same value. A mapping is then also accepted as workflow input and
                sent as it is (the CLI's object form). Payload size limits and external storage
                apply to envelopes only.
            asgi_app: An ASGI 3 application in this process to send every request to, with no
                socket and no HTTP bytes (``durable_workflow_server.embedded`` passes the
                server's app): the request becomes an ASGI scope and body, the answer is
                collected from the app's messages. ``base_url`` then only names the origin the
                app sees. The app behaves as behind a socket server: each request runs in its
                own task, and a caller that is cancelled or times out is a client that hung up
                (the app's ``receive()`` says ``http.disconnect``). Running the app's lifespan
                is the caller's business. Not together with ``transport``.
        """
        if payload_size_limit_bytes <= 0:
            raise ValueError("payload_size_limit_bytes must be positive")
        if not 0 < payload_size_warning_threshold_percent <= 100:
            raise ValueError("payload_size_warning_threshold_percent must be within (0, 100]")
        threshold = external_storage_threshold_bytes
        if threshold is not None and (type(threshold) is not int or threshold < 1):
            raise ValueError(
                f"external_storage_threshold_bytes must be a positive integer, got {threshold!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.namespace = namespace
        self.timeout = timeout
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self.metrics = metrics if metrics is not None else NoopMetrics()
        self.payload_size_limit_bytes = payload_size_limit_bytes
        self.payload_size_warning_threshold_percent = payload_size_warning_threshold_percent
        self.payload_size_warnings = payload_size_warnings
        self.plain_json_payloads = plain_json_payloads
        self.external_storage = external_storage
        self.external_storage_threshold_bytes = threshold
        if external_storage is not None and external_storage_cache is None:
            external_storage_cache = ExternalPayloadCache()
        self.external_storage_cache = external_storage_cache
        self.payload_resolver = None
        if external_storage is not None:
            self.payload_resolver = PayloadResolver(external_storage, external_storage_cache)
        self._token = token
        self._control_token = control_token
        self._worker_token = worker_token
        # Learned from /cluster/info or any worker-plane answer; sizes the long-poll timeout.
        self.server_long_poll_timeout = None
        if asgi_app is not None and transport is not None:
            raise ValueError("give transport= or asgi_app=, not both")
        self._sender: HttpSender = make_sender(
            self.base_url, timeout=timeout, transport=transport, asgi_app=asgi_app
        )
        # The httpx client of the httpx path (``None`` on the lean path).
        self._http = self._sender.client if isinstance(self._sender, HttpxSender) else None

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the underlying connection pool. Safe to call twice."""
        await self._sender.aclose()

    async def __aenter__(self) -> BaseClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ headers

    def _token_for(self, plane: Plane) -> str | None:
        if plane == "worker":
            order = (self._worker_token, self._token, self._control_token)
        else:
            order = (self._control_token, self._token, self._worker_token)
        return next((t for t in order if t), None)

    def _headers(self, plane: Plane) -> dict[str, str]:
        headers = {
            "Accept": _JSON,
            "Content-Type": _JSON,
            versions.NAMESPACE_HEADER: self.namespace,
        }
        token = self._token_for(plane)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if plane == "worker":
            headers[versions.WORKER_PROTOCOL_HEADER] = versions.WORKER_PROTOCOL_VERSION
        else:
            headers[versions.CONTROL_PLANE_HEADER] = versions.CONTROL_PLANE_VERSION
        return headers

    # ------------------------------------------------------------------ requests

    def poll_timeout(self, timeout: float | None) -> float:
        """HTTP read timeout for a long poll: explicit, else max(35, advertised hold + 5)."""
        if timeout is not None:
            return timeout
        advertised = self.server_long_poll_timeout or 0.0
        return max(MIN_POLL_TIMEOUT_SECONDS, advertised + POLL_TIMEOUT_MARGIN_SECONDS)

    def _learn_capabilities(self, body: Any) -> None:
        if not isinstance(body, Mapping):
            return
        caps = body.get("server_capabilities")
        if not isinstance(caps, Mapping):
            proto = body.get("worker_protocol")
            caps = proto.get("server_capabilities") if isinstance(proto, Mapping) else None
        if isinstance(caps, Mapping):
            hold = caps.get("long_poll_timeout")
            if isinstance(hold, (int, float)) and not isinstance(hold, bool) and hold > 0:
                self.server_long_poll_timeout = float(hold)

    def _learn_result_wait(self, offered: str) -> None:
        try:
            hold = float(offered)
        except ValueError:
            return
        self._result_wait_hold = hold if hold > 0 else None

    def _check_versions(self, response: HttpResponse, plane: Plane, route: str) -> None:
        """Refuse answers that declare a protocol version we do not speak (absence is tolerated)."""
        if plane == "worker":
            declared = response.header(versions.WORKER_PROTOCOL_HEADER)
            parsed = versions.parse_worker_protocol(declared) if declared else None
            if declared and (parsed is None or parsed[0] != 1):
                raise ServerError(
                    f"server speaks worker protocol {declared!r}; this SDK speaks "
                    f"{versions.WORKER_PROTOCOL_VERSION}",
                    status_code=response.status,
                    reason=versions_mismatch_reason(plane),
                )
        else:
            declared = response.header(versions.CONTROL_PLANE_HEADER)
            if declared and declared.strip() != versions.CONTROL_PLANE_VERSION:
                raise ServerError(
                    f"server speaks control plane {declared!r} on {route}; this SDK speaks "
                    f"{versions.CONTROL_PLANE_VERSION}",
                    status_code=response.status,
                    reason=versions_mismatch_reason(plane),
                )

    def _observe(self, method: str, route: str, plane: Plane, status: int | None, started: float) -> None:
        if status is None:
            outcome = OUTCOME_TRANSPORT_ERROR
        elif status < 400:
            outcome = OUTCOME_SUCCESS
        else:
            outcome = OUTCOME_HTTP_ERROR
        tags = {
            "method": method,
            "route": route,
            "plane": plane,
            "status_code": "" if status is None else str(status),
            "outcome": outcome,
        }
        try:
            self.metrics.increment(CLIENT_REQUESTS, 1.0, tags)
            self.metrics.record(CLIENT_REQUEST_DURATION_SECONDS, time.perf_counter() - started, tags)
        except Exception:  # a broken recorder must never break a request
            logger.exception("metrics recorder failed")

    async def _request(
        self,
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str] | None = None,
        plane: Plane = "control",
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        operation: str | None = None,
        resolve_payloads: bool = True,
    ) -> Any:
        """Send one logical request (with transport retries) and return the decoded JSON body.

        Args:
            method: HTTP verb.
            route: Path template relative to ``/api`` (also the ``route`` metric tag).
            path_params: Values for the template's placeholders.
            plane: ``"control"`` or ``"worker"``: picks the token and the version header.
            body: JSON body (``None`` sends no body).
            params: Query parameters; ``None`` values are dropped.
            timeout: Per-request timeout override (long polls).
            operation: What is attempted (``signal``, ``query``...), for error mapping.
            resolve_payloads: ``False`` keeps external-storage references as sent (an archive
                bundle, whose checksum covers them).

        Raises:
            TransportError: The server could not be reached within the retry policy.
            ServerError: The server answered an error status (a typed subclass where known).
        """
        url = API_PREFIX + fill_route(route, path_params)
        headers = self._headers(plane)
        content = None
        if body is not None:
            content = json_body(body, route)
        query = {k: query_value(v) for k, v in (params or {}).items() if v is not None}
        policy = self.retry_policy
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response = await self._sender.send(method, url, query or None, headers, content, timeout)
            except _TRANSPORT_ERRORS as exc:
                self._observe(method, route, plane, None, started)
                attempt += 1
                if isinstance(exc, _UNSUPPORTED_ORIGIN):
                    # A base URL without http:// or https:// cannot start working on a retry.
                    raise TransportError(
                        f"{method} {self.base_url}{url}: {exc} (base_url must be an http:// or "
                        "https:// origin, e.g. http://localhost:8080)"
                    ) from exc
                if attempt >= policy.max_attempts:
                    raise TransportError(
                        f"{method} {self.base_url}{url} failed after {attempt} attempt(s): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                logger.warning("%s %s failed (%s); retrying", method, url, type(exc).__name__)
                await policy.sleep(policy.delay(attempt - 1))
                continue
            self._observe(method, route, plane, response.status, started)
            attempt += 1
            if policy.should_retry_status(response.status) and attempt < policy.max_attempts:
                logger.warning("%s %s answered %s; retrying", method, url, response.status)
                await policy.sleep(policy.delay(attempt - 1))
                continue
            break
        if 300 <= response.status < 400:
            # Redirects are not followed: a POST would be replayed as a GET, and treating the
            # empty answer as success would make a call look done when nothing happened.
            location = response.header("location") or "another URL"
            raise ServerError(
                f"{method} {url} was redirected ({response.status}) to {location}; "
                "configure the client with the server's final origin",
                status_code=response.status,
                body=response.text,
            )
        decoded = self._parse(response)
        if response.status >= 400:
            raise exception_for(response.status, decoded, operation=operation)
        self._check_versions(response, plane, route)
        offered = response.header(RESULT_WAIT_HEADER)
        if offered is not None:
            self._learn_result_wait(offered)
        if plane == "worker":
            # Worker tasks are resolved by the worker's task parsers, which can fail the task
            # (rather than the poll) when a stored payload is missing or changed.
            self._learn_capabilities(decoded)
        elif self.payload_resolver is not None and resolve_payloads:
            try:
                decoded = await self.payload_resolver.resolve_async(decoded)
            except ValueError as exc:  # ExternalPayloadIntegrityError reaches the caller as it is
                raise PayloadError(
                    f"{method} {url}: bad external payload reference: {exc}", INVALID_PAYLOAD_FRAMING
                ) from exc
        return decoded

    @staticmethod
    def _parse(response: HttpResponse) -> Any:
        if not response.body:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            if response.status >= 400:
                return response.text
            raise ServerError(
                f"server answered {response.status} with a non-JSON body",
                status_code=response.status,
                body=response.text,
            ) from None

    async def _request_object(self, method: str, route: str, **kwargs: Any) -> dict[str, Any]:
        """Like :meth:`_request` but insists on a JSON object (``{}`` for an empty body)."""
        decoded = await self._request(method, route, **kwargs)
        if decoded is None:
            return {}
        if not isinstance(decoded, dict):
            raise ServerError(
                f"expected a JSON object from {method} {route}, got {type(decoded).__name__}", body=decoded
            )
        return decoded


def versions_mismatch_reason(plane: Plane) -> str:
    """The reason code attached to a locally detected protocol-version mismatch."""
    return "unsupported_protocol_version" if plane == "worker" else "unsupported_control_plane_version"
