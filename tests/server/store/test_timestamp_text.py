"""The fast timestamp texts are the texts the slower forms wrote (stored rows and answers compare alike)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from durable_workflow_server.engine.util import rfc3339
from durable_workflow_server.store import timestamps
from durable_workflow_server.store.timestamps import _sqlite_datetime, _sqlite_text

UTC = timezone.utc


def _values() -> list[datetime]:
    rng = random.Random(11)
    fixed = [
        datetime(2020, 1, 1),
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2026, 3, 4, 5, 6, 7, 12, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ]
    spread = [datetime.fromtimestamp(rng.random() * 4e9, UTC) for _ in range(2000)]
    naive = [value.replace(tzinfo=None) for value in spread[:200]]
    return fixed + spread + naive


def test_rfc3339_is_the_strftime_text() -> None:
    for value in _values():
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        assert rfc3339(value) == aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), value
    assert rfc3339(None) is None


def test_sqlite_text_is_sqlalchemys_datetime_text() -> None:
    for value in _values():
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
        assert _sqlite_text(value) == naive.isoformat(sep=" ", timespec="microseconds"), value
    assert _sqlite_text(None) is None


def test_sqlite_datetime_reads_every_stored_form_as_aware_utc() -> None:
    stamp = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)
    assert _sqlite_datetime(_sqlite_text(stamp)) == stamp
    assert _sqlite_datetime("2026-12-03 08:00:00") == stamp.replace(microsecond=0)
    shifted = _sqlite_datetime("2026-12-03 10:00:00.123456+02:00")
    assert shifted == stamp and shifted is not None and shifted.tzinfo is UTC
    assert _sqlite_datetime(stamp.replace(tzinfo=None)) == stamp
    assert _sqlite_datetime(None) is None
    for value in _values():
        read = _sqlite_datetime(_sqlite_text(value))
        assert read is not None and read.tzinfo is UTC
        assert read == (value.replace(tzinfo=UTC) if value.tzinfo is None else value)


def test_sqlite_text_of_the_value_bound_last_is_its_own_text() -> None:
    first = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    other = datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)
    paris = datetime(2026, 1, 2, 4, 4, 5, 6, tzinfo=ZoneInfo("Europe/Paris"))
    for value, text in [
        (first, "2026-01-02 03:04:05.000006"),
        (first, "2026-01-02 03:04:05.000006"),
        (other, "2026-01-02 03:04:05.000007"),
        (paris, "2026-01-02 03:04:05.000006"),
        (paris, "2026-01-02 03:04:05.000006"),
        (first.replace(tzinfo=None), "2026-01-02 03:04:05.000006"),
        (first, "2026-01-02 03:04:05.000006"),
    ]:
        assert _sqlite_text(value) == text


def test_a_text_read_again_is_the_value_read_first_and_the_kept_texts_stay_few() -> None:
    text = "2026-12-03 08:00:00.123456"
    first = _sqlite_datetime(text)
    assert _sqlite_datetime(text) is first  # one parse per text kept
    assert _sqlite_datetime("2026-12-03 10:00:00.123456+02:00") == first
    for second in range(timestamps.READ_TEXTS_KEPT * 2):
        _sqlite_datetime(f"2026-12-03 08:{second // 60 % 60:02d}:{second % 60:02d}.{second:06d}")
    assert len(timestamps._read_texts) <= timestamps.READ_TEXTS_KEPT
    assert _sqlite_datetime(text) == first
