"""``dw schedule:*`` actions: pause, resume, trigger, backfill, and the audit history.

``schedule:backfill`` sends its range in windows of at most one day, in order, so a long
backfill shows a progress bar on a terminal (and no window holds more fires than the server
takes in one request); the document it prints is the windows' answers merged. The windows do
not depend on the output mode, so what the server does is the same with or without ``--json``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import click

from ..command import Invocation, command
from ..errors import CliError, ExitCode, invalid
from ..output import parse_moment
from ..views import status
from .schedule import POLICY_HELP, document, done

if TYPE_CHECKING:
    from durable_workflow.client import Client

BACKFILL_WINDOW = timedelta(days=1)
# Outcomes of a trigger that are not failures (cli.md §3.3); anything else exits 1.
TRIGGER_OK = frozenset({"triggered", "buffered", "buffer_full", "skipped"})
NOTE = click.option("--note", help="Operator's note, recorded with the change.")


# ---------------------------------------------------------------------------- pause / resume


@command(
    "schedule:pause",
    summary="Pause a schedule's fires (running workflows are not touched).",
    example="dw schedules pause nightly --note='maintenance window'",
)
@click.argument("schedule_id")
@NOTE
def pause(inv: Invocation, schedule_id: str, note: str | None) -> None:
    result = inv.call(lambda client: client.pause_schedule(schedule_id, note=note))
    done(inv, f"Schedule paused: {schedule_id}", result.raw, schedule_id)


@command(
    "schedule:resume",
    summary="Resume a paused schedule from its next occurrence.",
    example="dw schedules resume nightly --note='maintenance complete'",
)
@click.argument("schedule_id")
@NOTE
def resume(inv: Invocation, schedule_id: str, note: str | None) -> None:
    result = inv.call(lambda client: client.resume_schedule(schedule_id, note=note))
    done(inv, f"Schedule resumed: {schedule_id}", result.raw, schedule_id)


# ---------------------------------------------------------------------------- trigger


def _trigger_title(schedule_id: str, outcome: Any) -> str:
    titles = {
        "triggered": f"Schedule {schedule_id} triggered",
        "buffered": f"Schedule {schedule_id} fire buffered",
        "buffer_full": f"Schedule {schedule_id} fire dropped: its buffer is full",
        "skipped": f"Schedule {schedule_id} fire skipped",
    }
    return titles.get(str(outcome), f"Schedule {schedule_id} trigger failed ({outcome})")


def fires(count: int) -> str:
    return f"{count} fire" if count == 1 else f"{count} fires"


@command(
    "schedule:trigger",
    summary="Fire a schedule now.",
    example="dw schedules trigger nightly --overlap-policy=allow_all",
)
@click.argument("schedule_id")
@click.option("--overlap-policy", help="For this fire only. " + POLICY_HELP)
def trigger(inv: Invocation, schedule_id: str, overlap_policy: str | None) -> None:
    result = inv.call(lambda client: client.trigger_schedule(schedule_id, overlap_policy=overlap_policy))
    body = document(inv, result.raw, schedule_id)
    if inv.json:
        inv.out.document(body)
    else:
        inv.out.title(_trigger_title(schedule_id, body.get("outcome")))
        inv.out.fields(
            [
                ("Namespace", body["namespace"]),
                ("Workflow ID", body.get("workflow_id")),
                ("Run ID", body.get("run_id")),
                ("Buffer Depth", body.get("buffer_depth")),
                ("Reason", body.get("reason")),
            ]
        )
    if result.outcome not in TRIGGER_OK:
        inv.ctx.exit(1)


# ---------------------------------------------------------------------------- backfill


def _instant(text: str, option: str) -> datetime:
    moment = parse_moment(text)
    if moment is None:
        raise invalid(f"{option} must be an ISO-8601 time, e.g. 2026-04-20T00:00:00Z (got {text!r}).")
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def backfill_windows(start: str, end: str) -> list[tuple[str, str]]:
    """``[start, end)`` as consecutive windows of at most :data:`BACKFILL_WINDOW`, in UTC.

    A time without a zone is UTC. A range the server will refuse (end not after start) is one
    window, so the refusal is the server's.
    """
    first, last = _instant(start, "--start-time"), _instant(end, "--end-time")
    if last <= first:
        return [(_iso(first), _iso(last))]
    windows: list[tuple[str, str]] = []
    lower = first
    while last - lower > BACKFILL_WINDOW:
        windows.append((_iso(lower), _iso(lower + BACKFILL_WINDOW)))
        lower += BACKFILL_WINDOW
    windows.append((_iso(lower), _iso(last)))
    return windows


def _merged(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """One backfill document from the windows' answers (the last one's fields, fires summed)."""
    if len(answers) == 1:
        return answers[0]
    merged = dict(answers[-1])
    merged["fires_attempted"] = sum(int(a.get("fires_attempted") or 0) for a in answers)
    merged["results"] = [fire for a in answers for fire in (a.get("results") or [])]
    return merged


@command(
    "schedule:backfill",
    summary="Fire a schedule's occurrences in [start, end) now, in order.",
    example="dw schedules backfill nightly --start-time=2026-04-01 --end-time=2026-04-08T12:00Z",
)
@click.argument("schedule_id")
@click.option("--start-time", required=True, help="First instant of the range (ISO-8601; no zone: UTC).")
@click.option("--end-time", required=True, help="End of the range, excluded (ISO-8601; no zone: UTC).")
@click.option("--overlap-policy", help="For these fires only. " + POLICY_HELP)
def backfill_schedule(
    inv: Invocation, schedule_id: str, start_time: str, end_time: str, overlap_policy: str | None
) -> None:
    """Ranges longer than a day go as one request per day; a progress bar follows them on a terminal."""
    windows = backfill_windows(start_time, end_time)

    async def run(client: Client) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        total = 0
        with inv.out.progress(f"Backfilling {schedule_id}", total=len(windows), unit="days") as bar:
            for lower, upper in windows:
                result = await client.backfill_schedule(
                    schedule_id, start_time=lower, end_time=upper, overlap_policy=overlap_policy
                )
                answers.append(dict(result.raw))
                total += result.fires_attempted
                bar.advance(detail=fires(total))
        return answers

    body = document(inv, _merged(inv.call(run)), schedule_id)
    results = [r for r in body.get("results") or [] if isinstance(r, Mapping)]
    if inv.json:
        inv.out.document(body)
    else:
        _print_backfill(inv, schedule_id, body, results)
    if any(r.get("outcome") == "failed" for r in results):
        inv.ctx.exit(1)


def _print_backfill(
    inv: Invocation, schedule_id: str, body: Mapping[str, Any], results: list[Mapping[str, Any]]
) -> None:
    counts = Counter(str(r.get("outcome")) for r in results)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
    out = inv.out
    attempted = body.get("fires_attempted")
    count = attempted if isinstance(attempted, int) else len(results)
    out.title(f"Backfill of schedule {schedule_id}: {fires(count)}")
    out.fields(
        [("Namespace", body["namespace"]), ("Outcome", status(body.get("outcome"))), ("Fires", summary)]
    )
    out.table(
        ["Fire Time", "Outcome", "Workflow ID", "Detail"],
        (
            [
                out.moment(r.get("fire_time"), short=True),
                status(r.get("outcome")),
                r.get("workflow_id"),
                r.get("reason") or (f"buffer depth {r['buffer_depth']}" if r.get("buffer_depth") else None),
            ]
            for r in results
        ),
        empty="No occurrences in that range.",
    )


# ---------------------------------------------------------------------------- history


@command(
    "schedule:history",
    summary="Print a schedule's audit history (--all follows every page).",
    example="dw schedules history nightly --all",
)
@click.argument("schedule_id")
@click.option("--limit", type=click.IntRange(1, 500), help="Events per page (server default 100).")
@click.option(
    "--after-sequence", type=click.IntRange(min=0), help="Start after this sequence (a next_cursor)."
)
@click.option("--all", "follow_all", is_flag=True, help="Follow every page to the end.")
def history(
    inv: Invocation, schedule_id: str, limit: int | None, after_sequence: int | None, follow_all: bool
) -> None:
    ns = inv.namespace
    jsonl = inv.out.mode == "jsonl"

    async def run(client: Client) -> dict[str, Any]:
        events: list[dict[str, Any]] = []
        cursor = after_sequence
        # Only --all is long work; one page needs no bar.
        reading = f"Reading the history of {schedule_id}"
        with inv.out.progress(reading, total=None, unit="events", enabled=follow_all) as bar:
            while True:
                page = await client.get_schedule_history(schedule_id, limit=limit, after_sequence=cursor)
                rows = page.raw.get("events")
                fresh = [
                    {**e, "namespace": e.get("namespace") or page.namespace or ns}
                    for e in (rows if isinstance(rows, list) else [])
                    if isinstance(e, Mapping)
                ]
                events.extend(fresh)
                if jsonl:
                    for event in fresh:
                        inv.out.document(event)
                bar.advance(len(fresh))
                more, next_cursor = page.has_more, page.next_cursor
                if not follow_all or not more or next_cursor is None:
                    break
                if cursor is not None and next_cursor <= cursor:
                    raise CliError(
                        f"The history of schedule {schedule_id} did not advance past sequence {cursor}.",
                        ExitCode.FAILURE,
                        reason="history_cursor_stuck",
                    )
                cursor = next_cursor
        envelope: dict[str, Any] = {
            "schedule_id": page.schedule_id or schedule_id,
            "namespace": page.namespace or ns,
            "events": events,
            "has_more": False if follow_all else more,
            "next_cursor": None if follow_all else next_cursor,
        }
        return envelope

    body = inv.call(run)
    if jsonl:
        return
    if inv.json:
        inv.out.document(body)
        return
    _print_history(inv, body)


def _refs(event: Mapping[str, Any]) -> str | None:
    parts = []
    if event.get("workflow_instance_id"):
        parts.append(f"wf={event['workflow_instance_id']}")
    if event.get("workflow_run_id"):
        parts.append(f"run={event['workflow_run_id']}")
    return " ".join(parts) or None


def _print_history(inv: Invocation, body: Mapping[str, Any]) -> None:
    out = inv.out
    out.fields([("Schedule ID", body["schedule_id"]), ("Namespace", body["namespace"])])
    out.table(
        ["Seq", "Event", "Recorded At", "Workflow Refs"],
        (
            [e.get("sequence"), e.get("event_type"), out.moment(e.get("recorded_at"), short=True), _refs(e)]
            for e in body["events"]
        ),
        empty="No history events.",
    )
    if body.get("has_more") and body.get("next_cursor") is not None:
        out.line(
            f"More events: dw schedule:history {body['schedule_id']} --after-sequence={body['next_cursor']}"
        )


COMMANDS = (pause, resume, trigger, backfill_schedule, history)
