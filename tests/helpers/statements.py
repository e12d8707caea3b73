"""The SQL statements a server runs, by step: what the statement-budget test counts and lists.

:class:`StatementLog` sets the store tally's ``recorder`` (see
:class:`~durable_workflow_server.store.base.StatementTally`), so it sees every statement the
server counts on ``/metrics``, and files each under the *origin* current when it ran: the
test's own step (``with log.step("start"):``), the HTTP request that :func:`by_request` wrapped
(``"POST /api/workflows"``), or ``"background"`` for what ran in no step (the background loop,
whose task began outside every step). It also notes the engine function that issued each
statement and its SQL, so a failing budget prints what ran.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from durable_workflow_server.store import Store

BACKGROUND = "background"
ORIGIN: ContextVar[str] = ContextVar("dw_statement_origin", default=BACKGROUND)
# Frames that are plumbing, not the engine code that chose to run a statement.
_SKIPPED = ("/store/", "/engine/transaction.py", "/engine/core.py", "contextlib.py")


@dataclass(frozen=True)
class Recorded:
    origin: str
    caller: str  # the engine function that ran it (module:function)
    sql: str


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if "durable_workflow_server" in name and not any(part in name for part in _SKIPPED):
            module = name.split("durable_workflow_server/", 1)[1].removesuffix(".py")
            return f"{module}:{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _sql(statement: Any) -> str:
    try:
        text = str(statement)
    except Exception:  # a statement that only compiles against its dialect
        text = repr(statement)
    return " ".join(text.split())


class StatementLog:
    """Every statement ``store`` counts while entered, with its origin, caller and SQL."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.entries: list[Recorded] = []

    def __enter__(self) -> StatementLog:
        assert self.store.tally.recorder is None, "another StatementLog is recording"
        self.store.tally.recorder = self._record
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.tally.recorder = None

    def _record(self, statement: Any, parameters: Any) -> None:
        self.entries.append(Recorded(ORIGIN.get(), _caller(), _sql(statement)))

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """File the statements run inside (this task and tasks it starts) under ``name``."""
        token = ORIGIN.set(name)
        try:
            yield
        finally:
            ORIGIN.reset(token)

    def counts(self) -> Counter[str]:
        return Counter(entry.origin for entry in self.entries)

    def of(self, origin: str) -> list[Recorded]:
        return [entry for entry in self.entries if entry.origin == origin]

    def listing(self, origin: str | None = None) -> str:
        """One line per statement (``origin  caller  SQL``, SQL cut at 160 characters)."""
        chosen = self.entries if origin is None else self.of(origin)
        return "\n".join(f"{e.origin:<28} {e.caller:<52} {e.sql[:160]}" for e in chosen)

    def clear(self) -> None:
        self.entries.clear()


def by_request(app: ASGIApp) -> ASGIApp:
    """``app`` with each HTTP request's statements filed under ``"METHOD /path"``."""

    async def labelled(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        token = ORIGIN.set(f"{scope['method']} {scope['path']}")
        try:
            await app(scope, receive, send)
        finally:
            ORIGIN.reset(token)

    return labelled
