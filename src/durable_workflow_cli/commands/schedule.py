"""``dw schedule:*`` definitions: create, list, describe, update, delete.

Pause, resume, trigger, backfill and the audit history are in ``schedule_actions.py``. The
grouped form ``dw schedules create ...`` is rewritten to ``schedule:create`` by ``cli.py``.
Every document carries the resolved ``namespace`` (the server's when it sends one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import payloads
from ..command import Invocation, command
from ..errors import invalid
from ..views import backfill, status, with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import ScheduleDescription

F = TypeVar("F", bound=Callable[..., Any])
OVERLAP_POLICIES = ("skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all")
POLICY_HELP = "What a fire does while the last workflow runs: " + ", ".join(OVERLAP_POLICIES) + "."


def action_options(f: F) -> F:
    """The options of the workflow start a fire makes (create and update share them)."""
    for decorator in reversed(
        (
            click.option("--workflow-type", "-t", help="Workflow type each fire starts."),
            click.option("--task-queue", help="Task queue of the started workflows."),
            click.option("--execution-timeout", type=int, help="Bound on each workflow, in seconds."),
            click.option("--run-timeout", type=int, help="Bound on each run, in seconds."),
            payloads.payload_options,
        )
    ):
        f = decorator(f)
    return f


def spec_options(f: F) -> F:
    """``--cron`` / ``--interval`` (repeatable) and the shared schedule fields."""
    for decorator in reversed(
        (
            click.option("--cron", "-c", "crons", multiple=True, help="Cron expression (repeatable)."),
            click.option(
                "--interval", "intervals", multiple=True, help="ISO-8601 interval, e.g. PT30M (repeatable)."
            ),
        )
    ):
        f = decorator(f)
    return f


def field_options(*, overlap_default: str | None) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        for decorator in reversed(
            (
                click.option(
                    "--overlap-policy",
                    default=overlap_default,
                    show_default=overlap_default is not None,
                    help=POLICY_HELP,
                ),
                click.option(
                    "--jitter", type=click.IntRange(0, 3600), help="Random delay of each fire, 0-3600 s."
                ),
                click.option("--max-runs", type=int, help="Fire at most this many times."),
                click.option("--note", help="Operator's note."),
            )
        ):
            f = decorator(f)
        return f

    return decorate


def _action(
    workflow_type: str | None,
    task_queue: str | None,
    execution_timeout: int | None,
    run_timeout: int | None,
    input_value: list[Any] | dict[str, Any] | None,
) -> dict[str, Any]:
    given = {
        "workflow_type": workflow_type,
        "task_queue": task_queue,
        "input": input_value,
        "execution_timeout_seconds": execution_timeout,
        "run_timeout_seconds": run_timeout,
    }
    return {key: value for key, value in given.items() if value is not None}


def _spec(crons: tuple[str, ...], intervals: tuple[str, ...], timezone: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if crons:
        spec["cron_expressions"] = list(crons)
    if intervals:
        spec["intervals"] = [{"every": every} for every in intervals]
    if timezone is not None:
        spec["timezone"] = timezone
    return spec


def document(inv: Invocation, body: Mapping[str, Any], schedule_id: str) -> dict[str, Any]:
    """A schedule answer as printed: the resolved namespace and the id filled in when missing."""
    return backfill(with_namespace(body, inv.namespace), schedule_id=schedule_id)


def done(inv: Invocation, title: str, body: Mapping[str, Any], schedule_id: str) -> None:
    """The JSON document, or the one-line human answer with the namespace."""
    doc = document(inv, body, schedule_id)
    if inv.json:
        inv.out.document(doc)
        return
    inv.out.title(title)
    inv.out.fields(
        [
            ("Namespace", doc["namespace"]),
            ("Outcome", status(doc.get("outcome"))),
            ("Status", status(doc.get("status"))),
            ("Note", doc.get("note")),
        ]
    )


# ---------------------------------------------------------------------------- create


@command(
    "schedule:create",
    summary="Create a schedule that starts a workflow on a cron or interval spec.",
    example="dw schedules create --schedule-id=nightly --workflow-type=reports.build --cron='0 2 * * *'",
)
@click.option("--schedule-id", help="Id of the schedule (default: the server generates one).")
@spec_options
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone of the cron expressions.")
@action_options
@field_options(overlap_default="skip")
@click.option("--paused", is_flag=True, help="Create it paused.")
def create(
    inv: Invocation,
    schedule_id: str | None,
    crons: tuple[str, ...],
    intervals: tuple[str, ...],
    timezone: str,
    workflow_type: str | None,
    task_queue: str | None,
    execution_timeout: int | None,
    run_timeout: int | None,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
    overlap_policy: str,
    jitter: int | None,
    max_runs: int | None,
    note: str | None,
    paused: bool,
) -> None:
    if not crons and not intervals:
        raise invalid(
            "A schedule needs --cron or --interval.", command="dw schedule:create --cron='0 * * * *' ..."
        )
    if not workflow_type:
        raise invalid("A schedule needs --workflow-type: the workflow each fire starts.")
    arguments = payloads.arguments(input_text, input_file, input_encoding)
    action = _action(workflow_type, task_queue, execution_timeout, run_timeout, arguments)
    handle = inv.call(
        lambda client: client.create_schedule(
            spec=_spec(crons, intervals, timezone),
            action=action,
            schedule_id=schedule_id,
            overlap_policy=overlap_policy,
            jitter_seconds=jitter,
            max_runs=max_runs,
            paused=paused,
            note=note,
        )
    )
    done(inv, f"Schedule created: {handle.schedule_id}", handle.raw, handle.schedule_id)


# ---------------------------------------------------------------------------- list


def _text(value: str, option: str) -> str:
    if not value.strip():
        raise invalid(f"{option} must not be blank.")
    return value


@command(
    "schedule:list",
    summary="List the namespace's schedules.",
    example="dw schedules list --status=paused",
)
@click.option("--status", "status_filter", type=click.Choice(("active", "paused")), help="Only this status.")
@click.option("--type", "-t", "workflow_type", help="Only schedules starting this workflow type.")
@click.option("--query", help="A visibility query over the schedules.")
@click.option("--limit", "-l", type=click.IntRange(1, 200), help="Schedules per page (server default 50).")
@click.option("--next-page-token", help="Continue after the page that gave this token.")
def list_schedules(
    inv: Invocation,
    status_filter: str | None,
    workflow_type: str | None,
    query: str | None,
    limit: int | None,
    next_page_token: str | None,
) -> None:
    for value, option in (
        (workflow_type, "--type"),
        (query, "--query"),
        (next_page_token, "--next-page-token"),
    ):
        if value is not None:
            _text(value, option)
    answer = inv.call(
        lambda client: client.list_schedules(
            status=status_filter,
            workflow_type=workflow_type,
            query=query,
            page_size=limit,
            next_page_token=next_page_token,
        )
    )
    body = with_namespace(answer.raw, inv.namespace, items="schedules")
    body.setdefault("next_page_token", answer.next_page_token)
    if inv.json:
        inv.out.records(body, "schedules")
        return
    out = inv.out
    out.fields([("Namespace", inv.namespace)])
    out.table(
        ["Schedule ID", "Workflow Type", "Status", "Next Fire", "Last Fire"],
        (
            [
                row.schedule_id,
                row.workflow_type,
                status(row.status),
                out.moment(row.next_fire_at, short=True),
                out.moment(row.last_fired_at, short=True),
            ]
            for row in answer.schedules
        ),
        empty=f"No schedules found in namespace {inv.namespace}.",
    )
    if answer.next_page_token:
        out.line(f"Next page token: {answer.next_page_token}")


# ---------------------------------------------------------------------------- describe


def _max_runs(described: ScheduleDescription) -> str | None:
    if described.max_runs is None:
        return None
    left = described.remaining_actions
    return f"{described.max_runs} ({left} remaining)" if left is not None else str(described.max_runs)


@command(
    "schedule:describe",
    summary="Describe a schedule: spec, action, state, next fire and counters.",
    example="dw schedules describe nightly",
)
@click.argument("schedule_id")
def describe(inv: Invocation, schedule_id: str) -> None:
    described = inv.call(lambda client: client.describe_schedule(schedule_id))
    if inv.json:
        inv.out.document(document(inv, described.raw, schedule_id))
        return
    out = inv.out
    info = described.info
    buffered = info.get("buffered_actions")
    state = described.raw.get("state")
    out.title(f"Schedule: {described.schedule_id or schedule_id}")
    out.fields(
        [
            ("Namespace", described.namespace or inv.namespace),
            ("Status", status(described.status)),
            ("Workflow Type", described.workflow_type),
            ("Task Queue", described.task_queue),
            ("Spec", described.spec or None),
            ("Action", described.action or None),
            ("State", state if isinstance(state, Mapping) and state else None),
            ("Overlap Policy", described.overlap_policy),
            ("Jitter", f"{described.jitter_seconds}s" if described.jitter_seconds else None),
            ("Max Runs", _max_runs(described)),
            ("Fires", described.fires_count),
            ("Failures", described.failures_count or None),
            ("Next Fire", out.moment(described.next_fire_at)),
            ("Last Fire", out.moment(described.last_fired_at)),
            ("Latest Workflow", described.latest_workflow_instance_id),
            ("Buffered Actions", len(buffered) if isinstance(buffered, list) and buffered else None),
            ("Skipped Triggers", info.get("skipped_trigger_count") or None),
            ("Last Skip Reason", info.get("last_skip_reason")),
            ("Note", described.note),
            ("Memo", described.memo or None),
            ("Search Attributes", described.search_attributes or None),
            ("Created", out.moment(described.created_at)),
            ("Updated", out.moment(described.updated_at)),
        ]
    )


# ---------------------------------------------------------------------------- update


@command(
    "schedule:update",
    summary="Change a schedule's spec, action, overlap policy, jitter, limits or note.",
    example="dw schedules update nightly --cron='30 2 * * *' --note='later'",
)
@click.argument("schedule_id")
@spec_options
@click.option("--timezone", help="Time zone of the new spec (with --cron or --interval).")
@action_options
@field_options(overlap_default=None)
def update(
    inv: Invocation,
    schedule_id: str,
    crons: tuple[str, ...],
    intervals: tuple[str, ...],
    timezone: str | None,
    workflow_type: str | None,
    task_queue: str | None,
    execution_timeout: int | None,
    run_timeout: int | None,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
    overlap_policy: str | None,
    jitter: int | None,
    max_runs: int | None,
    note: str | None,
) -> None:
    """A new spec replaces the old one whole, so pass every rule it should keep."""
    if timezone is not None and not crons and not intervals:
        raise invalid("--timezone goes with --cron or --interval (the spec is replaced whole).")
    arguments = payloads.arguments(input_text, input_file, input_encoding)
    spec = _spec(crons, intervals, timezone)
    action = _action(workflow_type, task_queue, execution_timeout, run_timeout, arguments)
    fields = (overlap_policy, jitter, max_runs, note)
    if not spec and not action and all(value is None for value in fields):
        raise invalid(
            "Nothing to update: pass at least one field to change.",
            command=f"dw schedule:update {schedule_id} --note='...'",
        )
    result = inv.call(
        lambda client: client.update_schedule(
            schedule_id,
            spec=spec or None,
            action=action or None,
            overlap_policy=overlap_policy,
            jitter_seconds=jitter,
            max_runs=max_runs,
            note=note,
        )
    )
    done(inv, f"Schedule updated: {schedule_id}", result.raw, schedule_id)


# ---------------------------------------------------------------------------- delete


@command(
    "schedule:delete",
    summary="Delete a schedule (its audit history is kept).",
    example="dw schedules delete nightly",
)
@click.argument("schedule_id")
def delete(inv: Invocation, schedule_id: str) -> None:
    result = inv.call(lambda client: client.delete_schedule(schedule_id))
    done(inv, f"Schedule deleted: {schedule_id}", result.raw, schedule_id)


COMMANDS = (create, list_schedules, describe, update, delete)
