"""The one timestamp column type: aware UTC datetimes in and out, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

_UTC = timezone.utc
_fromisoformat = datetime.fromisoformat
_last_text: tuple[datetime | None, str] = (None, "")


def _aware_utc(value: datetime) -> datetime:
    tz = value.tzinfo
    if tz is _UTC:
        return value
    return value.replace(tzinfo=_UTC) if tz is None else value.astimezone(_UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """SQLite's stored form: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (string order is time order).

    The same text SQLAlchemy's SQLite ``DATETIME`` writes, so old and new rows compare alike.
    Every timestamp bound passes through here, so it is the cheapest form found: positional
    ``isoformat`` (keywords cost), the ``+00:00`` an aware UTC value carries sliced off rather
    than a ``replace(tzinfo=None)`` copy made first.
    """
    if value is None:
        return None
    global _last_text
    last = _last_text
    if last[0] is value:
        # A transaction binds its one ``now`` to many columns: seven times in ten the value is
        # the very object bound last (datetimes are immutable, so its text is too).
        return last[1]
    given = value
    tz = value.tzinfo
    if tz is not _UTC and tz is not None:
        value = value.astimezone(_UTC)
    text = value.isoformat(" ", "microseconds")[:26]
    _last_text = (given, text)  # one tuple: a reader never pairs one value with another's text
    return text


#: Stored texts read back and their aware values (datetimes are immutable, so one is shared):
#: a row's timestamps are read again with every read of the row, and one transaction's ``now``
#: fills several columns. Emptied when full, so it stays small.
_read_texts: dict[str, datetime] = {}
READ_TEXTS_KEPT = 2048


def _sqlite_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if type(value) is str:
        found = _read_texts.get(value)
        if found is None:
            found = _parse_sqlite_text(value)
            if len(_read_texts) >= READ_TEXTS_KEPT:
                _read_texts.clear()
            _read_texts[value] = found
        return found
    return _parse_sqlite_text(value)


def _parse_sqlite_text(value: Any) -> datetime:
    if not isinstance(value, datetime):
        # Stored by us (``_sqlite_text``) or by hand-written SQL (``CURRENT_TIMESTAMP``, an offset).
        value = _fromisoformat(value)
    tz = value.tzinfo
    if tz is _UTC:
        return value  # type: ignore[no-any-return]
    return value.replace(tzinfo=_UTC) if tz is None else value.astimezone(_UTC)  # type: ignore[no-any-return]


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
