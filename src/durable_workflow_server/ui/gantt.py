"""The Gantt view of a run: its activities and timers as bars over the run's time.

Built from the history export bundle (the same one ``GET .../history/export`` answers), whose
``activities`` and ``timers`` already hold each step's start, close and attempts; pure, so the
layout is tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..engine.shapes import HistoryExportBundle


@dataclass(frozen=True)
class Bar:
    """One row of the chart: where its bar starts and how wide it is, in percent of the run."""

    kind: str  # activity | timer
    label: str
    status: str
    start: str
    end: str | None
    left: float
    width: float
    detail: str


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def bars(bundle: HistoryExportBundle, now: datetime | None = None) -> list[Bar]:
    """The run's activities and timers as bars, in the order they were scheduled.

    A step still open ends at ``now`` (the chart's right edge); a run with no span yet (every
    step in the same instant) draws each bar at a minimum visible width.
    """
    now = now or datetime.now(timezone.utc)
    spans: list[tuple[int, str, str, str, datetime, datetime | None, str]] = []
    for activity in bundle["activities"]:
        start = _at(activity["scheduled_at"])
        if start is None:
            continue
        attempts = activity["attempt_count"]
        detail = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        spans.append(
            (
                activity["sequence"],
                "activity",
                activity["activity_type"],
                activity["status"],
                start,
                _at(activity["closed_at"]),
                detail,
            )
        )
    for timer in bundle["timers"]:
        fire_at = _at(timer["fire_at"])
        if fire_at is None:
            continue
        start = fire_at - timedelta(seconds=timer["delay_seconds"])
        spans.append(
            (
                timer["sequence"],
                "timer",
                f"timer {timer['delay_seconds']}s",
                timer["status"],
                start,
                _at(timer["fired_at"]),
                f"fires {timer['fire_at']}",
            )
        )
    if not spans:
        return []
    spans.sort(key=lambda span: span[0])
    origin = min(span[4] for span in spans)
    edge = max((span[5] or now) for span in spans)
    total = max((edge - origin).total_seconds(), 1e-6)
    result = []
    for _, kind, label, status, start, end, detail in spans:
        left = (start - origin).total_seconds() / total * 100
        width = max(((end or now) - start).total_seconds() / total * 100, 0.5)
        result.append(
            Bar(
                kind,
                label,
                status,
                start.isoformat(),
                end.isoformat() if end else None,
                round(min(left, 99.5), 2),
                round(min(width, 100 - min(left, 99.5)), 2),
                detail,
            )
        )
    return result
