"""``GET /metrics``: the server's own Prometheus metrics, and the request counting behind them.

Outside the ``/api`` route table on purpose: it is not part of the wire contract, answers the
Prometheus text format (0.0.4) rather than JSON, and needs no control-plane version header.
By default it takes the same bearer credential as the API, with the operator or admin role
(``Authorization: Bearer ...`` in the scrape config); ``DW_METRICS_PUBLIC=1`` serves it to
anyone (for a scraper on a private network, or with the signature driver, which a scraper
cannot satisfy).

Series (counters are this process's own since it started; see docs/protocol.md):

* ``durable_workflow_server_requests_total{method, route, status}``: HTTP requests, by route
  *template* (``/api/workflows/{workflow_id}``; ``unmatched`` for paths no route serves, so
  the label set stays bounded);
* ``durable_workflow_server_lease_expiries_total{kind}``: workflow and activity task leases the
  background loop expired;
* ``durable_workflow_server_schedule_fires_total{namespace, outcome}``: schedule fires this
  process recorded (``started``, ``failed``, ``already_running``);
* ``durable_workflow_server_sql_statements_total``: SQL statements this process's store
  executed (requests, the background loop, scrapes; ``BEGIN``/``COMMIT`` not counted);
* ``durable_workflow_server_task_queue_depth{namespace, task_queue, kind}``: ready tasks
  (workflow, activity; pending query tasks), counted at scrape time;
* ``durable_workflow_server_long_polls_waiting``: long polls parked in this process now.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from durable_workflow.protocol import routes

from ..engine.api import EngineAPI
from ..engine.maintenance.counters import (
    LEASE_EXPIRIES,
    QUEUE_DEPTH,
    REQUESTS,
    SCHEDULE_FIRES,
    SQL_STATEMENTS,
    TRANSACTION_RETRIES,
    WORKER_LEASE_RELEASES,
    ProcessCounters,
    Sample,
)
from ..settings import Settings
from ..store.errors import is_transient
from . import guards
from .errors import ApiError
from .routing import ROUTE_KEY, ServedRoute

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCRAPE_ROLES = frozenset({guards.OPERATOR, guards.ADMIN})
UNMATCHED = "unmatched"
LONG_POLLS_WAITING = "durable_workflow_server_long_polls_waiting"

HELP: dict[str, tuple[str, str]] = {
    REQUESTS: ("counter", "HTTP requests answered by this process, by route template, method and status."),
    LEASE_EXPIRIES: ("counter", "Task leases this process's background loop expired, by task kind."),
    WORKER_LEASE_RELEASES: (
        "counter",
        "Task leases this process released because their worker was gone, by task kind and reason.",
    ),
    SCHEDULE_FIRES: ("counter", "Schedule fires this process recorded, by namespace and outcome."),
    TRANSACTION_RETRIES: (
        "counter",
        "Write transactions this process ran again after the database aborted them, by reason.",
    ),
    SQL_STATEMENTS: (
        "counter",
        "SQL statements this process's store executed (transaction control not counted).",
    ),
    QUEUE_DEPTH: ("gauge", "Ready tasks per namespace, task queue and kind, counted at scrape time."),
    LONG_POLLS_WAITING: ("gauge", "Long polls parked in this process (task polls, history follows, waits)."),
}


class CountRequests:
    """ASGI middleware counting each HTTP request once its status is known (any outcome)."""

    def __init__(self, app: ASGIApp, counters: ProcessCounters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if is_transient(exc) and status == 500:
                status = 503  # the catch-all outside answers a database outage with 503
            raise
        finally:
            self.counters.inc(
                REQUESTS, {"method": scope["method"], "route": route_of(scope), "status": str(status)}
            )


def route_of(scope: Scope) -> str:
    """The route template the request matched, ``/metrics``, or ``unmatched``."""
    route = scope.get(ROUTE_KEY)
    if isinstance(route, ServedRoute):
        return routes.API_PREFIX + route.operation.path
    return PATH if scope.get("path") == PATH else UNMATCHED


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(samples: Iterable[Sample]) -> str:
    """The Prometheus text exposition of ``samples`` (grouped by metric, HELP and TYPE first)."""
    grouped: dict[str, list[Sample]] = {name: [] for name in HELP}
    for sample in samples:
        grouped.setdefault(sample["name"], []).append(sample)
    lines: list[str] = []
    for name, items in grouped.items():
        kind, text = HELP.get(name, ("untyped", name))
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        for item in sorted(items, key=lambda s: sorted(s["labels"].items())):
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(item["labels"].items()))
            value = item["value"]
            shown = str(int(value)) if float(value).is_integer() else repr(float(value))
            lines.append(f"{name}{{{labels}}} {shown}" if labels else f"{name} {shown}")
    return "\n".join(lines) + "\n"


def _refusal(exc: ApiError) -> Response:
    body: dict[str, Any] = {"reason": exc.reason, "message": exc.message}
    return Response(json.dumps(body), status_code=exc.status, media_type="application/json")


def endpoint(settings: Settings, engine: EngineAPI, requests: ProcessCounters) -> Any:
    """The ``GET /metrics`` handler for this app: its request counts and the engine's samples."""

    async def metrics(request: Request) -> Response:
        principal: guards.Principal | None = None
        if not settings.metrics_public:
            try:
                principal = guards.authenticate(request.headers, b"", settings)
                guards.authorize(principal, SCRAPE_ROLES)
            except ApiError as exc:
                return _refusal(exc)
        snapshot = await engine.server_metrics()
        waiting = float(engine.long_polls_waiting())
        parked: Sample = {"name": LONG_POLLS_WAITING, "labels": {}, "value": waiting}
        # A namespace-bound credential sees the series of its own namespaces only (queue depth,
        # schedule fires); series without a namespace label are the process's own.
        samples = [
            s
            for s in [*requests.samples(), *snapshot["counters"], *snapshot["gauges"], parked]
            if principal is None
            or "namespace" not in s["labels"]
            or principal.may_use(s["labels"]["namespace"])
        ]
        return Response(render(samples), media_type=CONTENT_TYPE)

    return metrics
