"""Storage: SQLAlchemy Core tables, Alembic migrations and the dialect-specific Store."""

from __future__ import annotations

from .base import Conn, NotificationCallback, Store, head_revision
from .postgres import PostgresStore
from .sqlite import SQLiteStore


def create_store(url: str) -> Store:
    """Pick the Store for a database URL (``sqlite://…`` or ``postgresql://…``)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme.startswith("sqlite"):
        return SQLiteStore(url)
    if scheme.startswith("postgres"):
        return PostgresStore(url)
    raise ValueError(f"unsupported database URL scheme {scheme!r} (use sqlite:// or postgresql://)")


__all__ = [
    "Conn",
    "NotificationCallback",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "create_store",
    "head_revision",
]
