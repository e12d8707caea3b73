"""Schedule specs: 5-field cron expressions in an IANA time zone, and ISO-8601 intervals.

A spec's occurrences are the union of its rules' occurrences; the next fire is the earliest of
them. Cron expressions are evaluated by ``cronsim`` in the spec's time zone, which follows the
Debian cron rules across daylight-saving changes: a job at a specific wall-clock time that falls
into the spring-forward gap runs when the clock jumps past it, a specific time that occurs twice
at fall-back runs once (the first time), and wildcard-hour jobs keep running in real time through
both changes. Intervals (``every``, optional ``offset``) are fixed durations counted from the Unix
epoch, like ``every=PT30M`` firing at :00 and :30 of every hour, whatever the time zone.

:func:`parse_spec` checks a spec and returns the field errors of the 422 ``validation_failed``
answer (D7); the engine evaluates only specs that passed it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_RULES = 32
MAX_TEXT = 64
# The longest interval (and so offset) accepted: 100 years of days. Longer ones would overflow
# the calendar's arithmetic (timedelta's limit, year 9999) rather than mean anything useful.
MAX_DURATION = timedelta(days=36500)
# cronsim gives up on an expression that matches nothing for 50 years; a spec evaluated further
# than that ahead has no next fire.
_MAX_CRON_STEPS = 10_000

# ISO-8601 durations of fixed length: weeks, days, hours, minutes, seconds (no years or months,
# whose length depends on the calendar).
_DURATION = re.compile(
    r"P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


class SpecErrors(Exception):
    """A spec that cannot be evaluated: field errors keyed by dotted location (``spec.timezone``)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(next(iter(errors.values()))[0])
        self.errors = errors


@dataclass(frozen=True)
class Interval:
    every: timedelta
    offset: timedelta

    def next_after(self, after: datetime) -> datetime | None:
        """The next occurrence, or ``None`` past the end of the calendar (year 9999)."""
        try:
            steps = (after - EPOCH - self.offset) // self.every + 1
            return EPOCH + self.offset + steps * self.every
        except OverflowError:
            return None

    def at_or_before(self, at: datetime) -> datetime | None:
        try:
            steps = (at - EPOCH - self.offset) // self.every
            return EPOCH + self.offset + steps * self.every
        except OverflowError:
            return None


@dataclass(frozen=True)
class Spec:
    """A checked spec: evaluates occurrences (aware UTC datetimes)."""

    cron_expressions: tuple[str, ...]
    intervals: tuple[Interval, ...]
    zone: tzinfo

    def next_after(self, after: datetime) -> datetime | None:
        """The earliest occurrence strictly after ``after``, or ``None`` when there is none."""
        found = [_cron_next(expr, self.zone, after) for expr in self.cron_expressions]
        found += [interval.next_after(after) for interval in self.intervals]
        times = [t for t in found if t is not None]
        return min(times) if times else None

    def latest_at_or_before(self, at: datetime) -> datetime | None:
        """The latest occurrence at or before ``at`` (the catch-up after downtime takes it)."""
        found = [_cron_prev(expr, self.zone, at) for expr in self.cron_expressions]
        found += [interval.at_or_before(at) for interval in self.intervals]
        times = [t for t in found if t is not None]
        return max(times) if times else None

    def occurrences(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Occurrences in ``[start, end)``, at most ``limit`` of them."""
        found: list[datetime] = []
        current = self.next_after(start - timedelta(microseconds=1))
        while current is not None and current < end and len(found) < limit:
            found.append(current)
            current = self.next_after(current)
        return found

    def upcoming(self, start: datetime, limit: int) -> list[datetime]:
        """The first ``limit`` occurrences at or after ``start`` (fewer when the spec runs out)."""
        found: list[datetime] = []
        current = self.next_after(start - timedelta(microseconds=1))
        while current is not None and len(found) < limit:
            found.append(current)
            current = self.next_after(current)
        return found


def parse_duration(text: str) -> timedelta:
    """A fixed-length ISO-8601 duration (``PT30M``, ``P1DT2H``, ``P2W``); ``ValueError`` otherwise."""
    match = _DURATION.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(text)
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        length = timedelta(**parts)
    except OverflowError:  # e.g. P99999999999999W: too long for timedelta itself
        raise ValueError(text) from None
    if length > MAX_DURATION:
        raise ValueError(text)
    return length


def zone_of(name: str | None) -> tzinfo:
    """The IANA zone named ``name`` (``UTC`` when absent); ``ValueError`` for an unknown name."""
    if name is None or name.strip() == "" or name.upper() in {"UTC", "Z", "ETC/UTC"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(name) from exc


def check_cron(expr: str) -> str | None:
    """Why ``expr`` is not a usable 5-field cron expression, or ``None`` when it is."""
    if len(expr.split()) != 5:
        return "must have exactly 5 fields (minute hour day-of-month month day-of-week)"
    try:
        iterator = CronSim(expr, datetime(2000, 1, 1, tzinfo=UTC))
        next(iterator)
    except CronSimError as exc:
        return f"is not a valid cron expression ({exc})"
    except StopIteration:
        return "never fires"
    return None


def _cron_next(expr: str, zone: tzinfo, after: datetime) -> datetime | None:
    iterator = CronSim(expr, after.astimezone(zone))
    for _ in range(_MAX_CRON_STEPS):
        try:
            candidate = next(iterator).astimezone(UTC)
        except (StopIteration, OverflowError):  # nothing before the end of the calendar
            return None
        # Starting from a second occurrence of an ambiguous local time, cronsim may hand back
        # the first one (an earlier instant): keep going until strictly after.
        if candidate > after:
            return candidate
    return None


def _cron_prev(expr: str, zone: tzinfo, at: datetime) -> datetime | None:
    start = at.replace(microsecond=0) + timedelta(seconds=1)
    iterator = CronSim(expr, start.astimezone(zone), reverse=True)
    for _ in range(_MAX_CRON_STEPS):
        try:
            candidate = next(iterator).astimezone(UTC)
        except (StopIteration, OverflowError):
            return None
        if candidate <= at:
            return candidate
    return None


def _rules(value: Any, key: str, errors: dict[str, list[str]]) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors[key] = [f"The {key} field must be an array."]
        return []
    if len(value) > MAX_RULES:
        errors[key] = [f"The {key} field must not have more than {MAX_RULES} items."]
        return []
    return value


def _duration(value: Any, key: str, errors: dict[str, list[str]], *, required: bool) -> timedelta | None:
    if value is None:
        if required:
            errors[key] = [f"The {key} field is required."]
        return None
    if not isinstance(value, str):
        errors[key] = [f"The {key} field must be a string."]
        return None
    if len(value) > MAX_TEXT:
        errors[key] = [f"The {key} field must not be greater than {MAX_TEXT} characters."]
        return None
    try:
        return parse_duration(value)
    except ValueError:
        errors[key] = [
            f"The {key} field must be an ISO-8601 duration of weeks, days, hours, minutes and "
            "seconds (e.g. PT30M), at most P36500D."
        ]
        return None


def _intervals(raw: Sequence[Any], errors: dict[str, list[str]]) -> list[Interval]:
    found: list[Interval] = []
    for index, item in enumerate(raw):
        key = f"spec.intervals.{index}"
        if not isinstance(item, Mapping):
            errors[key] = [f"The {key} field must be an object with an every duration."]
            continue
        every = _duration(item.get("every"), f"{key}.every", errors, required=True)
        offset = _duration(item.get("offset"), f"{key}.offset", errors, required=False)
        if every is not None and every < timedelta(seconds=1):
            errors[f"{key}.every"] = [f"The {key}.every field must be at least one second."]
            continue
        if every is not None and offset is not None and offset >= every:
            errors[f"{key}.offset"] = [f"The {key}.offset field must be shorter than {key}.every."]
            continue
        if every is not None and f"{key}.offset" not in errors:
            found.append(Interval(every, offset or timedelta(0)))
    return found


def parse_spec(raw: Any) -> Spec:
    """Check a spec body and build it; raises :class:`SpecErrors` with every problem found."""
    if not isinstance(raw, Mapping):
        raise SpecErrors({"spec": ["The spec field must be an object."]})
    errors: dict[str, list[str]] = {}
    crons = _rules(raw.get("cron_expressions"), "spec.cron_expressions", errors)
    for index, expr in enumerate(crons):
        key = f"spec.cron_expressions.{index}"
        if not isinstance(expr, str):
            errors[key] = [f"The {key} field must be a string."]
            continue
        problem = check_cron(expr)
        if problem is not None:
            errors[key] = [f"The {key} field {problem}."]
    intervals = _intervals(_rules(raw.get("intervals"), "spec.intervals", errors), errors)
    zone: tzinfo = UTC
    name = raw.get("timezone")
    if name is not None and not isinstance(name, str):
        errors["spec.timezone"] = ["The spec.timezone field must be a string."]
    elif isinstance(name, str) and len(name) > MAX_TEXT:
        errors["spec.timezone"] = [f"The spec.timezone field must not be greater than {MAX_TEXT} characters."]
    else:
        try:
            zone = zone_of(name)
        except ValueError:
            errors["spec.timezone"] = [f"The spec.timezone field must be an IANA time zone (got {name!r})."]
    if not crons and not raw.get("intervals") and not errors:
        errors["spec"] = ["The spec must have at least one cron expression or interval."]
    if errors:
        raise SpecErrors(errors)
    return Spec(tuple(str(c).strip() for c in crons), tuple(intervals), zone)


def load(raw: Mapping[str, Any]) -> Spec:
    """A stored spec (checked when it was written)."""
    return parse_spec(raw)
