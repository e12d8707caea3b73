"""PostgreSQL round trips, counted at the driver: every asyncpg call that waits for the server.

No ``pg_stat_statements`` (it counts statements, not exchanges, and needs the extension): the
methods of ``asyncpg.Connection`` that send something and wait for the answer are wrapped, at
class level, so every connection of the process counts, whichever tree the server runs from.
One call is one round trip (``execute``, ``fetch``, ``fetchrow``, ``fetchval``, ``executemany``
(asyncpg sends all its sets before one Sync)), plus one for a statement asyncpg has not prepared
on that connection yet, or ``prepare`` (a Parse/Describe before anything is bound).
``BEGIN``, ``COMMIT``, a ``NOTIFY`` and a ping each count, which the SQL statement counter on
``/metrics`` leaves out or counts differently.

:func:`install` returns the :class:`RoundTrips` counter; ``on_call`` (optional) hears each
round trip (tests file them by step). :func:`install_reporting` (used in a server subprocess by
server_cost.py) writes the count to a file on ``SIGUSR1``.
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable
from typing import Any

# ``prepare`` is not here: its one Parse/Describe is counted where asyncpg prepares (below).
_WRAPPED = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


class RoundTrips:
    def __init__(self) -> None:
        self.count = 0
        self.on_call: Callable[[str], None] | None = None

    def add(self, what: str) -> None:
        self.count += 1
        if self.on_call is not None:
            self.on_call(what)


_installed: RoundTrips | None = None
_originals: dict[str, Any] = {}
# What the store calls its statement binding, newest name first.
_BINDING_NAMES = ("bind_execute", "_bind_execute")
_store_originals: dict[str, Any] = {}


def install() -> RoundTrips:
    """Wrap asyncpg's connection methods (once per process) and return the counter."""
    global _installed
    if _installed is not None:
        return _installed
    from asyncpg.connection import Connection

    counter = RoundTrips()
    _originals.update({name: getattr(Connection, name) for name in (*_WRAPPED, "_get_statement")})

    def counting(name: str, method: Any) -> Any:
        @functools.wraps(method)
        async def wrapper(self: Any, query: Any = None, *args: Any, **kwargs: Any) -> Any:
            counter.add(f"{name} {query}")
            return await method(self, query, *args, **kwargs)

        return wrapper

    for name in _WRAPPED:
        setattr(Connection, name, counting(name, getattr(Connection, name)))

    original = Connection._get_statement

    @functools.wraps(original)
    async def get_statement(self: Any, query: str, timeout: Any, **kwargs: Any) -> Any:
        record_class = kwargs.get("record_class") or self._protocol.get_record_class()
        key = (query, record_class, kwargs.get("ignore_custom_codec", False))
        if not kwargs.get("use_cache", True) or self._stmt_cache.get(key) is None:
            counter.add(f"prepare {query}")
        return await original(self, query, timeout, **kwargs)

    Connection._get_statement = get_statement  # type: ignore[method-assign]
    _wrap_store_binding(counter)
    _installed = counter
    return counter


def _wrap_store_binding(counter: RoundTrips) -> None:
    """Count the store's own statement binding (``postgres.bind_execute``, in trees that have it;
    ``_bind_execute`` in the trees of 2026-12-04 before its rename)."""
    try:
        from durable_workflow_server.store import postgres
    except ImportError:  # pragma: no cover - a tree without the server
        return
    name = next((n for n in _BINDING_NAMES if hasattr(postgres, n)), None)
    if name is None:
        return
    original = getattr(postgres, name)
    _store_originals[name] = original

    @functools.wraps(original)
    async def bound(raw: Any, statements: Any, sql: str, args: Any, status: bool) -> Any:
        counter.add(f"{'execute' if status else 'fetch'} {sql}")
        return await original(raw, statements, sql, args, status)

    setattr(postgres, name, bound)


def uninstall() -> None:
    """Put asyncpg's own methods back (tests)."""
    global _installed
    from asyncpg.connection import Connection

    for name, method in _originals.items():
        setattr(Connection, name, method)
    _originals.clear()
    if _store_originals:
        from durable_workflow_server.store import postgres

        for name, original in _store_originals.items():
            setattr(postgres, name, original)
        _store_originals.clear()
    _installed = None


def install_reporting(path: str) -> None:
    """:func:`install`, and write the count to ``path`` whenever the process gets ``SIGUSR1``."""
    counter = install()

    def report(_signum: int, _frame: Any) -> None:
        tmp = f"{path}.tmp"
        with open(tmp, "w") as out:
            out.write(str(counter.count))
        os.replace(tmp, path)

    signal.signal(signal.SIGUSR1, report)
