"""``dw workflow:*`` reads and starts: start, list, describe, show-run, list-runs, history, history-export.

Signals, queries, updates and run commands are in ``workflow_messages.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import payloads
from ..command import Invocation, command
from ..views import backfill, contract_fields, run_fields, status, with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import Client

TERMINAL = frozenset({"completed", "failed", "cancelled", "canceled", "terminated", "timed_out"})
TERMINAL_EVENTS = frozenset(
    {"WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "WorkflowTerminated", "WorkflowTimedOut"}
    | {"WorkflowContinuedAsNew"}
)


def is_terminal(body: Mapping[str, Any]) -> bool:
    """Whether a describe body shows a closed run (cli.md §3.1 ``--wait``)."""
    if body.get("is_terminal") is True:
        return True
    return body.get("status_bucket") in ("completed", "failed") or body.get("status") in TERMINAL


# ---------------------------------------------------------------------------- start


@command(
    "workflow:start",
    summary="Start a workflow.",
    example="dw workflow:start --type=orders.process --workflow-id=order-42 --input='[{\"order_id\":42}]'",
)
@click.option("--type", "-t", "workflow_type", required=True, help="Workflow type.")
@click.option("--workflow-id", "-w", help="Workflow id (default: a generated wf-<uuid>).")
@click.option("--business-key", help="Business identifier.")
@click.option("--task-queue", default="default", show_default=True, help="Task queue.")
@click.option("--duplicate-policy", help="What to do when the id is taken: fail, use-existing.")
@click.option("--memo", help="Memo, a JSON object.")
@click.option(
    "--search-attr", "search_attrs", multiple=True, metavar="KEY=VALUE", help="Search attribute (repeatable)."
)
@click.option("--execution-timeout", type=int, help="Bound on the whole workflow, in seconds.")
@click.option("--run-timeout", type=int, help="Bound on each run, in seconds.")
@click.option("--priority", type=int, help="Dispatch priority (0..9).")
@click.option("--fairness-key", help="Fairness bucket.")
@click.option("--fairness-weight", type=int, help="Fairness weight (1..1000).")
@click.option("--wait", is_flag=True, help="Wait until the workflow closes; exit 1 unless it completed.")
@payloads.payload_options
def start(
    inv: Invocation,
    workflow_type: str,
    workflow_id: str | None,
    business_key: str | None,
    task_queue: str,
    duplicate_policy: str | None,
    memo: str | None,
    search_attrs: tuple[str, ...],
    execution_timeout: int | None,
    run_timeout: int | None,
    priority: int | None,
    fairness_key: str | None,
    fairness_weight: int | None,
    wait: bool,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
) -> None:
    arguments = payloads.arguments(input_text, input_file, input_encoding)
    memo_value = payloads.json_object(memo, "--memo")
    attributes = payloads.key_values(search_attrs, "--search-attr")

    async def run(client: Client) -> tuple[dict[str, Any], dict[str, Any] | None]:
        handle = await client.start_workflow(
            workflow_type=workflow_type,
            task_queue=task_queue,
            workflow_id=workflow_id,
            input=arguments,
            duplicate_policy=duplicate_policy,
            memo=memo_value,
            search_attributes=attributes,
            business_key=business_key,
            execution_timeout_seconds=execution_timeout,
            run_timeout_seconds=run_timeout,
            priority=priority,
            fairness_key=fairness_key,
            fairness_weight=fairness_weight,
        )
        started = backfill(dict(handle.raw), workflow_id=handle.workflow_id, run_id=handle.run_id)
        if not wait:
            return started, None
        while True:
            described = (await client.describe_workflow(handle.workflow_id)).raw
            if is_terminal(described):
                return started, described
            if not inv.json:
                inv.out.note(".")
            await inv.runtime.sleep(inv.runtime.poll_interval)

    started, final = inv.call(run)
    ns = inv.namespace
    if final is not None:
        completed = final.get("status_bucket") == "completed" or final.get("status") == "completed"
        if inv.json:
            inv.out.document(with_namespace(contract_fields(final), ns), pretty=True)
        else:
            _print_started(inv, started)
            inv.out.fields(
                [
                    ("Status", status(final.get("status"))),
                    ("Closed Reason", final.get("closed_reason")),
                    ("Closed At", inv.out.moment(final.get("closed_at"))),
                    ("Output", final.get("output")),
                ]
            )
        if not completed:
            inv.ctx.exit(1)
        return
    if inv.json:
        inv.out.document(with_namespace(contract_fields(started), ns))
    else:
        _print_started(inv, started)


def _print_started(inv: Invocation, body: Mapping[str, Any]) -> None:
    inv.out.title("Workflow started")
    inv.out.fields(
        [
            ("Workflow ID", body.get("workflow_id")),
            ("Namespace", body.get("namespace") or inv.namespace),
            ("Run ID", body.get("run_id")),
            ("Business Key", body.get("business_key")),
            ("Payload Codec", body.get("payload_codec")),
            ("Outcome", status(body.get("outcome"))),
        ]
    )


# ---------------------------------------------------------------------------- list


@command(
    "workflow:list",
    summary="List workflows, newest first.",
    example="dw workflow:list --status=running --limit=10",
    aliases=("workflows:list",),
)
@click.option("--type", "-t", "workflow_type", help="Only this workflow type.")
@click.option("--status", help="Only this status bucket: running, completed, failed.")
@click.option("--query", help="A visibility query, e.g. \"WorkflowType = 'orders'\".")
@click.option("--limit", "-l", type=int, default=20, show_default=True, help="Rows to show.")
def list_workflows(
    inv: Invocation, workflow_type: str | None, status: str | None, query: str | None, limit: int
) -> None:
    answer = inv.call(
        lambda client: client.list_workflows(
            workflow_type=workflow_type, status=status, query=query, page_size=limit
        )
    )
    body = with_namespace(answer.raw, inv.namespace, items="workflows")
    body.setdefault("next_page_token", answer.next_page_token)
    if inv.json:
        inv.out.records(body, "workflows")
        return
    inv.out.fields([("Namespace", inv.namespace)])
    out = inv.out
    out.table(
        ["Workflow ID", "Type", "Business Key", "Status", "Started", "Closed"],
        (
            [
                row.get("workflow_id"),
                row.get("workflow_type"),
                row.get("business_key"),
                _status_cell(row),
                out.moment(row.get("started_at"), short=True),
                out.moment(row.get("closed_at"), short=True),
            ]
            for row in body["workflows"]
        ),
        empty=f"No workflows found in namespace {inv.namespace}.",
    )
    if answer.next_page_token:
        out.line(
            f"More workflows exist; raise --limit to see more (next page token {answer.next_page_token})."
        )


def _status_cell(row: Mapping[str, Any]) -> Any:
    return status(row.get("status"))


# ---------------------------------------------------------------------------- describe


def _describer(client: Client, workflow_id: str, run_id: str | None) -> Any:
    async def describe() -> dict[str, Any]:
        if run_id:
            return (await client.describe_workflow_run(workflow_id, run_id)).raw
        return (await client.describe_workflow(workflow_id)).raw

    return describe


def _describe(inv: Invocation, workflow_id: str, run_id: str | None, follow: bool, title: str) -> None:
    async def run(client: Client) -> dict[str, Any]:
        describe = _describer(client, workflow_id, run_id)
        body: dict[str, Any] = await describe()
        if follow:
            inv.out.line(f"Following {workflow_id} (Ctrl-C to stop)...")
            while not is_terminal(body):
                await inv.runtime.sleep(inv.runtime.poll_interval)
                latest: dict[str, Any] = await describe()
                if latest.get("status") != body.get("status"):
                    inv.out.line(f"Status changed: {body.get('status')} -> {latest.get('status')}")
                body = latest
        return body

    body = inv.call(run)
    if inv.json:
        inv.out.document(with_namespace(contract_fields(body), inv.namespace))
        return
    inv.out.title(title)
    inv.out.fields(run_fields(inv.out, body, inv.namespace))


@command(
    "workflow:describe",
    summary="Describe a workflow's current run (or one run).",
    example="dw workflow:describe order-42",
)
@click.argument("workflow_id")
@click.option("--run-id", "-r", help="Describe this run instead of the current one.")
@click.option("--follow", "-f", is_flag=True, help="Keep watching until the run closes.")
def describe(inv: Invocation, workflow_id: str, run_id: str | None, follow: bool) -> None:
    _describe(inv, workflow_id, run_id, follow, "Workflow")


@command(
    "workflow:show-run",
    summary="Describe one run of a workflow.",
    example="dw workflow:show-run order-42 01J9Z8RUN",
)
@click.argument("workflow_id")
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep watching until the run closes.")
def show_run(inv: Invocation, workflow_id: str, run_id: str, follow: bool) -> None:
    _describe(inv, workflow_id, run_id, follow, "Workflow Run")


@command(
    "workflow:list-runs",
    summary="List every run of a workflow id.",
    example="dw workflow:list-runs order-42",
)
@click.argument("workflow_id")
def list_runs(inv: Invocation, workflow_id: str) -> None:
    answer = inv.call(lambda client: client.list_workflow_runs(workflow_id))
    body = with_namespace(answer.raw, inv.namespace, items="runs")
    backfill(body, workflow_id=workflow_id, run_count=answer.run_count)
    if inv.json:
        inv.out.records(body, "runs")
        return
    out = inv.out
    out.fields([("Workflow", workflow_id), ("Namespace", inv.namespace), ("Run Count", answer.run_count)])
    out.table(
        ["Run ID", "#", "Type", "Status", "Task Queue", "Started", "Closed"],
        (
            [
                row.get("run_id"),
                row.get("run_number"),
                row.get("workflow_type"),
                _status_cell(row),
                row.get("task_queue"),
                out.moment(row.get("started_at"), short=True),
                out.moment(row.get("closed_at"), short=True),
            ]
            for row in body["runs"]
        ),
        empty=f"No runs found for {workflow_id}.",
    )


# ---------------------------------------------------------------------------- history


@command(
    "workflow:history",
    summary="Print a run's event history (--follow streams new events).",
    example="dw workflow:history order-42 01J9Z8RUN --follow",
)
@click.argument("workflow_id")
@click.argument("run_id", required=False)
@click.option("--follow", "-f", is_flag=True, help="Wait for new events until the run closes (Ctrl-C stops).")
@click.option("--page-size", type=int, help="Events per request.")
def history(
    inv: Invocation, workflow_id: str, run_id: str | None, follow: bool, page_size: int | None
) -> None:
    streaming = inv.out.mode == "jsonl" or (follow and not inv.json)
    printed_header = False

    def show(events: list[dict[str, Any]]) -> None:
        nonlocal printed_header
        if inv.out.mode == "jsonl":
            for event in events:
                inv.out.document(event)
            return
        if not printed_header:
            inv.out.fields(
                [("Workflow ID", workflow_id), ("Run ID", target_run), ("Namespace", inv.namespace)]
            )
            printed_header = True
        _event_table(inv, events)

    target_run = run_id

    async def run(client: Client) -> dict[str, Any]:
        nonlocal target_run
        if target_run is None:
            target_run = (await client.describe_workflow(workflow_id)).run_id
            if target_run is None:
                from ..errors import CliError, ExitCode

                raise CliError(f"Workflow {workflow_id} has no run to read.", ExitCode.NOT_FOUND)
        seen: set[Any] = set()
        merged: list[dict[str, Any]] = []
        token: str | None = None
        last: dict[str, Any] = {}
        while True:
            page = await client.get_history(
                workflow_id, target_run, page_size=page_size, next_page_token=token, wait_new_event=follow
            )
            last = dict(page)
            fresh = []
            for event in page.get("events") or []:
                key = event.get("sequence", id(event)) if isinstance(event, dict) else id(event)
                if key not in seen:
                    seen.add(key)
                    fresh.append({**event, "namespace": event.get("namespace") or inv.namespace})
            merged.extend(fresh)
            tracker.advance(len(fresh))
            if streaming and fresh:
                show(fresh)
            next_token = page.get("next_page_token")
            if next_token:
                token = next_token
                continue
            if not follow or any(e.get("event_type") in TERMINAL_EVENTS for e in fresh):
                break
        last["events"] = merged
        last.pop("next_page_token", None)
        return last

    # Streamed output is its own progress; a bar is for the pages gathered before the table.
    with inv.out.progress("Reading history", total=None, unit="events", enabled=not streaming) as tracker:
        body = inv.call(run)
    body = backfill(with_namespace(body, inv.namespace), workflow_id=workflow_id, run_id=target_run)
    if inv.out.mode == "jsonl":
        return
    if inv.json:
        inv.out.document(body)
    elif not streaming:
        show(body["events"])
    elif not printed_header:
        inv.out.line("No events.")


def _event_table(inv: Invocation, events: list[dict[str, Any]]) -> None:
    out = inv.out
    out.table(
        ["#", "Event Type", "Time", "Principal", "Details"],
        (
            [
                event.get("sequence"),
                event.get("event_type") or event.get("type"),
                out.moment(event.get("timestamp") or event.get("recorded_at"), short=True),
                _principal(event.get("principal")),
                json.dumps(event.get("payload"), ensure_ascii=False) if event.get("payload") else None,
            ]
            for event in events
        ),
        empty="No events.",
    )


def _principal(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get("id") or value.get("name") or value.get("type")
    return value


@command(
    "workflow:history-export",
    summary="Export a run's history bundle as JSON (for replay and archives).",
    example="dw workflow:history-export order-42 01J9Z8RUN -o order-42.json",
    output=False,
)
@click.argument("workflow_id")
@click.argument("run_id")
@click.option(
    "--output-file", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write it here (pretty)."
)
def history_export(inv: Invocation, workflow_id: str, run_id: str, output_file: Path | None) -> None:
    with inv.out.progress(f"Exporting the history of {workflow_id}", total=1, unit="bundle") as bar:
        bundle = inv.call(lambda client: client.export_history(workflow_id, run_id))
        bar.advance()
    body = with_namespace(dict(bundle), inv.namespace)
    if output_file is None:
        inv.out.document(body)
        return
    output_file.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    inv.out.note(f"Exported namespace {inv.namespace} workflow {workflow_id} run {run_id} to {output_file}")


COMMANDS = (start, list_workflows, describe, show_run, list_runs, history, history_export)
