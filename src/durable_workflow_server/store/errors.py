"""What a database error means for the caller: retry the transaction, answer 503, or neither.

Two families matter above the store:

* **Conflicts** (:func:`conflict_kind`): the database aborted the transaction so that another
  could proceed — PostgreSQL's ``serialization_failure`` (SQLSTATE ``40001``) and
  ``deadlock_detected`` (``40P01``), SQLite's "database is locked" once the store's own busy
  wait has given up. Nothing was committed; running the whole transaction again is the fix.
* **Unavailability** (:func:`is_unavailable`): the database cannot be reached or dropped the
  connection — refused or reset sockets, a terminated backend, an administrator shutdown or
  restart (``57P01``-``57P03``), "too many connections" (``53300``), any SQLSTATE of class
  ``08``. SQLAlchemy invalidates the pooled connection (and the pool's older connections) on
  such an error, so the next checkout reconnects by itself; the request that met it is answered
  ``503 database_unavailable`` and retried by the client.

The checks look at the exception, SQLAlchemy's ``orig`` and the driver's own exception behind
it (``__cause__``), because asyncpg errors reach the engine wrapped once or twice, and errors
raised while *connecting* are not wrapped at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Literal

import sqlalchemy as sa

ConflictKind = Literal["serialization_failure", "deadlock", "database_locked"]

_CONFLICT_STATES: dict[str, ConflictKind] = {"40001": "serialization_failure", "40P01": "deadlock"}
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# asyncpg's own exception classes for a dead connection carry no SQLSTATE; matched by name so
# that a SQLite-only install (no asyncpg) needs nothing from here.
_UNAVAILABLE_CLASS_NAMES = frozenset(
    {"ConnectionDoesNotExistError", "ConnectionFailureError", "InterfaceError", "InternalClientError"}
)
_UNAVAILABLE_MESSAGES = ("connection is closed", "connection was closed", "cannot perform operation")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, what it wraps (``orig``) and what caused it, each once, at most a few levels deep."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 8:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            todo.append(orig)
        if current.__cause__ is not None:
            todo.append(current.__cause__)


def _sqlstate(exc: BaseException) -> str | None:
    for attr in ("sqlstate", "pgcode"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite answered "busy" or "locked" (another connection holds the lock): worth retrying.

    By its error code where Python gives it (3.11+), else by its message.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _sqlite_locked(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
    return "database is locked" in str(exc).lower()


def conflict_kind(exc: BaseException) -> ConflictKind | None:
    """The conflict that aborted the transaction (retry it whole), or ``None``."""
    for link in _chain(exc):
        state = _sqlstate(link)
        if state in _CONFLICT_STATES:
            return _CONFLICT_STATES[state]
        if _sqlite_locked(link):
            return "database_locked"
    return None


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or dropped the connection (answer 503)."""
    for link in _chain(exc):
        if isinstance(link, sa.exc.DBAPIError) and link.connection_invalidated:
            return True
        if isinstance(link, (sa.exc.DisconnectionError, ConnectionError)):
            return True
        if isinstance(link, OSError) and not isinstance(link, sqlite3.Error):
            return True  # connect() failed: refused, unreachable, reset
        state = _sqlstate(link)
        if state is not None and (state.startswith("08") or state in _UNAVAILABLE_STATES):
            return True
        if type(link).__name__ in _UNAVAILABLE_CLASS_NAMES and type(link).__module__.startswith("asyncpg"):
            return True
        if type(link).__module__.startswith("asyncpg") and any(
            m in str(link).lower() for m in _UNAVAILABLE_MESSAGES
        ):
            return True
    return False


def is_transient(exc: BaseException) -> bool:
    """Unavailable, or a conflict that outlived the transaction's retries: the request may be retried."""
    return is_unavailable(exc) or conflict_kind(exc) is not None
