"""The Gantt view of a run: its activities, timers and child workflows as bars over the run's time.

Built from the history export bundle (the same one ``GET .../history/export`` answers), whose
``activities`` and ``timers`` already hold each step's start, close and attempts, and whose
history events hold each child's link (``ChildWorkflowScheduled``, ``ChildRunStarted`` for each
run or retry, then the ``ChildRun*`` close); pure, so the layout is tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from durable_workflow.protocol.history import EventType

from ..engine.shapes import HistoryExportBundle

_CHILD_CLOSES = frozenset(
    {
        EventType.CHILD_RUN_COMPLETED,
        EventType.CHILD_RUN_FAILED,
        EventType.CHILD_RUN_CANCELLED,
        EventType.CHILD_RUN_TERMINATED,
    }
)


@dataclass(frozen=True)
class Bar:
    """One row of the chart: where its bar starts and how wide it is, in percent of the run."""

    kind: str  # activity | timer | child
    label: str
    status: str
    start: str
    end: str | None
    left: float
    width: float
    detail: str
    child: tuple[str, str | None] | None = None  # a child's (workflow id, latest run id): its link


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# (sequence, kind, label, status, start, end, detail, child link)
_Span = tuple[int, str, str, str, datetime, datetime | None, str, tuple[str, str | None] | None]


def _children(bundle: HistoryExportBundle) -> list[_Span]:
    """One span per child link: from its scheduling to its close (open: still running)."""
    links: dict[str, dict[str, Any]] = {}
    for event in bundle["history_events"]:
        kind, payload = event["type"], event["payload"] or {}
        link_id = payload.get("workflow_link_id")
        if not isinstance(link_id, str):
            continue
        if kind == EventType.CHILD_WORKFLOW_SCHEDULED:
            links[link_id] = {
                "sequence": payload.get("sequence") or event["sequence"],
                "type": payload.get("child_workflow_type") or "child",
                "workflow_id": payload.get("child_workflow_instance_id"),
                "run_id": payload.get("child_workflow_run_id"),
                "start": _at(event["recorded_at"]),
                "end": None,
                "status": "running",
                "runs": 1,
            }
        elif link_id in links and kind == EventType.CHILD_RUN_STARTED:
            link = links[link_id]
            if payload.get("child_workflow_run_id") not in (None, link["run_id"]):
                link["runs"] += 1
            link["run_id"] = payload.get("child_workflow_run_id") or link["run_id"]
        elif link_id in links and kind in _CHILD_CLOSES:
            link = links[link_id]
            link["end"] = _at(payload.get("closed_at") or event["recorded_at"])
            link["status"] = payload.get("child_status") or kind.removeprefix("ChildRun").lower()
            link["run_id"] = payload.get("child_workflow_run_id") or link["run_id"]
    spans: list[_Span] = []
    for link in links.values():
        if link["start"] is None or not isinstance(link["workflow_id"], str):
            continue
        runs = link["runs"]
        detail = f"{link['workflow_id']}, {runs} run{'s' if runs != 1 else ''}"
        target = (link["workflow_id"], link["run_id"])
        spans.append(
            (
                int(link["sequence"]),
                "child",
                str(link["type"]),
                link["status"],
                link["start"],
                link["end"],
                detail,
                target,
            )
        )
    return spans


def bars(bundle: HistoryExportBundle, now: datetime | None = None) -> list[Bar]:
    """The run's activities, timers and children as bars, in the order they were scheduled.

    A step still open ends at ``now`` (the chart's right edge); a run with no span yet (every
    step in the same instant) draws each bar at a minimum visible width.
    """
    now = now or datetime.now(timezone.utc)
    spans: list[_Span] = []
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
                None,
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
                None,
            )
        )
    spans.extend(_children(bundle))
    if not spans:
        return []
    spans.sort(key=lambda span: span[0])
    origin = min(span[4] for span in spans)
    edge = max((span[5] or now) for span in spans)
    total = max((edge - origin).total_seconds(), 1e-6)
    result = []
    for _, kind, label, status, start, end, detail, child in spans:
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
                child,
            )
        )
    return result
