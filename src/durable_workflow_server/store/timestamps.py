"""The one timestamp column type: aware UTC datetimes in and out, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

_UTC = timezone.utc


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value if value.tzinfo is _UTC else value.astimezone(_UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """SQLite's stored form: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (string order is time order).

    The same text SQLAlchemy's SQLite ``DATETIME`` writes, so old and new rows compare alike.
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


def _sqlite_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware_utc(value)
    # Stored by us (``_sqlite_text``) or by hand-written SQL (``CURRENT_TIMESTAMP``, an offset).
    return _aware_utc(datetime.fromisoformat(value))


def _bind_aware(value: datetime | None) -> datetime | None:
    return None if value is None else _aware_utc(value)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that always binds and returns aware UTC datetimes.

    Its processors are one small function per value rather than the generic TypeDecorator chain
    (and, on SQLite, not SQLAlchemy's regular-expression parse): every timestamp of every row
    read or written passes through them, which made them a visible share of the server's CPU.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        return _sqlite_text if dialect.name == "sqlite" else _bind_aware

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return _sqlite_datetime if dialect.name == "sqlite" else _bind_aware

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        # Only literal rendering (``literal_binds``) still goes through here, into the impl's
        # literal processor, which wants a datetime: naive UTC on SQLite.
        if value is None:
            return None
        value = _aware_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        result: datetime | None = self.result_processor(dialect, None)(value)
        return result
