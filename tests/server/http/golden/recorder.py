"""The golden conversation's machinery: a recording client over the real app, headers, the file.

See :mod:`tests.server.http.golden` for what the conversation is and how to re-record it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app

GOLDEN_FILE = Path(__file__).resolve().parents[3] / "fixtures" / "golden" / "http_responses.json"

WORKER_TOKEN, OPERATOR_TOKEN, ADMIN_TOKEN = "golden-worker", "golden-operator", "golden-admin"
KEPT_HEADERS = (
    "content-type",
    "content-encoding",
    "x-durable-workflow-control-plane-version",
    "x-durable-workflow-protocol-version",
    "location",
    "allow",
)
_ULID = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}(?![0-9A-Za-z])")
_SHA256 = re.compile(r'"(checksum|sha256|integrity[a-z_]*)":"[0-9a-f]{64}"')


class StepClock:
    """The server's only clock: starts at a fixed instant and moves one second per request."""

    def __init__(self) -> None:
        self.current = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current

    def tick(self) -> None:
        self.current += timedelta(seconds=1)


def golden_settings(database_url: str, clock: Callable[[], datetime]) -> Settings:
    return Settings(
        database_url=database_url,
        worker_token=WORKER_TOKEN,
        operator_token=OPERATOR_TOKEN,
        admin_token=ADMIN_TOKEN,
        max_payload_bytes=65_536,
        max_memo_bytes=1_024,
        long_poll_timeout=0.2,
        # Nothing is due during the conversation: the background loop must not move state
        # between requests, so it is set to wake rarely and the clock never reaches a deadline.
        timer_loop_interval=3600.0,
        poll_reprobe_interval=0.05,
        workflow_task_retry_delay_seconds=0.0,
        clock=clock,
    )


@dataclass
class Recorder:
    """Sends requests, records normalised responses, and keeps the id → placeholder map."""

    http: httpx.AsyncClient
    clock: StepClock
    records: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def _normalise(self, text: str) -> str:
        def placeholder(match: re.Match[str]) -> str:
            value = match.group(0)
            if not any(ch.isdigit() for ch in value) or not any(ch.isalpha() for ch in value):
                return value  # a word or a number of 26 characters, not an id
            return self.ids.setdefault(value.lower(), f"<id:{len(self.ids) + 1}>")

        text = _ULID.sub(placeholder, text)
        return _SHA256.sub(lambda m: f'"{m.group(1)}":"<sha256>"', text)

    async def send(
        self,
        label: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        self.clock.tick()
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if content is not None:
            kwargs["content"] = content
        elif json_body is not None:
            kwargs["json"] = json_body
        response = await self.http.request(method, path, **kwargs)
        kept: dict[str, str] = {}
        for name in KEPT_HEADERS:
            value = response.headers.get(name)
            if value is None:
                continue
            if name == "allow":
                # Starlette joins a set of methods: the order is the set's, not a contract.
                value = ", ".join(sorted(part.strip() for part in value.split(",")))
            kept[name] = self._normalise(value)
        self.records.append(
            {
                "label": label,
                "request": f"{method} {self._normalise(path)}",
                "status": response.status_code,
                "headers": kept,
                "body": self._normalise(response.text),
            }
        )
        return response


def control(token: str | None = OPERATOR_TOKEN, **extra: str) -> dict[str, str]:
    headers = {"X-Durable-Workflow-Control-Plane-Version": "2", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


def worker(token: str | None = WORKER_TOKEN, **extra: str) -> dict[str, str]:
    headers = {"X-Durable-Workflow-Protocol-Version": "1.1", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


@asynccontextmanager
async def golden_client(database_url: str) -> AsyncIterator[Recorder]:
    clock = StepClock()
    app = create_app(golden_settings(database_url, clock))
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Recorder(http, clock)


START = {
    "workflow_id": "wf-1",
    "workflow_type": "greeter",
    "task_queue": "q",
    "input": ["world"],
    "business_key": "order-7",
    "memo": {"note": "hello", "nested": {"n": 1}},
    "search_attributes": {"Customer": "acme", "Tags": ["a", "b"]},
}
FENCE_KEYS = ("lease_owner", "workflow_task_attempt")


def load_golden() -> list[dict[str, Any]]:
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write_golden(records: list[dict[str, Any]]) -> None:
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_FILE.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
