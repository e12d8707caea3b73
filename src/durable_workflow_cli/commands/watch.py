"""``dw watch workflow <id>`` (cli.md §3.10) and ``dw watch workflows``: poll and show what changes.

On a terminal the view is live (rich redraws it in place at every poll); elsewhere (a pipe, a
log) each poll prints only what changed, one ``[time] field: old -> new`` line each, as the
reference CLI does. ``watch workflow`` ends when the run closes: exit 0 if it completed, 1 if
it closed otherwise, 7 when ``--max-polls`` ran out first. ``watch workflows`` (a live
``workflow:list``) runs until ``--max-polls`` or Ctrl-C. Ctrl-C stops either cleanly (exit 0):
the live view is left as last drawn.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from ..command import Invocation, command
from ..errors import CliError, ExitCode, invalid
from ..views import status
from .workflow import is_terminal

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

    from durable_workflow.client import Client

WATCHED = (
    "status",
    "status_bucket",
    "is_terminal",
    "closed_at",
    "closed_reason",
    "wait_kind",
    "wait_reason",
    "last_progress_at",
    "output",
)
TARGETS = ("workflow", "workflows")


def _live_enabled(inv: Invocation) -> bool:
    forced = inv.runtime.interactive
    return forced if forced is not None else sys.stdout.isatty()


@contextmanager
def _live(inv: Invocation) -> Iterator[Live | None]:
    """A rich live view on stdout, or ``None`` when stdout is not a terminal."""
    if not _live_enabled(inv):
        yield None
        return
    from rich.console import Console
    from rich.live import Live

    console = Console(
        file=sys.stdout,
        force_terminal=True,
        color_system="standard" if inv.out.color else None,
        no_color=not inv.out.color,
        width=inv.runtime.width,
        highlight=False,
    )
    # Redrawn at each poll only: nothing changes between polls, so no refresh thread.
    with Live(console=console, auto_refresh=False, transient=False) as live:
        yield live


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _stamp(inv: Invocation) -> str:
    return f"[{inv.runtime.clock():%H:%M:%S}]"


def _workflow_view(inv: Invocation, body: Mapping[str, Any], polls: int) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    out = inv.out
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold" if out.color else None)
    grid.add_column(overflow="fold")
    rows = [
        ("Workflow ID", body.get("workflow_id")),
        ("Run ID", body.get("run_id")),
        ("Type", body.get("workflow_type")),
        ("Namespace", body.get("namespace") or inv.namespace),
        ("Status", status(body.get("status"))),
        ("Status Bucket", body.get("status_bucket")),
        ("Wait Kind", body.get("wait_kind")),
        ("Wait Reason", body.get("wait_reason")),
        ("Last Progress", out.moment(body.get("last_progress_at"))),
        ("Closed", out.moment(body.get("closed_at"))),
        ("Closed Reason", body.get("closed_reason")),
        ("Output", body.get("output")),
    ]
    for label, value in rows:
        if value not in (None, ""):
            grid.add_row(label + ":", out.text(value))
    footer = Text(f"{_stamp(inv)} poll {polls}; Ctrl-C to stop", style="dim" if out.color else "")
    return Group(grid, footer)


def _list_view(inv: Invocation, rows: list[dict[str, Any]], polls: int) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    out = inv.out
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for header in ("Workflow ID", "Type", "Status", "Started", "Closed"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(
            *(
                out.text(cell)
                for cell in (
                    row.get("workflow_id"),
                    row.get("workflow_type"),
                    status(row.get("status")),
                    out.moment(row.get("started_at"), short=True),
                    out.moment(row.get("closed_at"), short=True),
                )
            )
        )
    footer = Text(
        f"{_stamp(inv)} {len(rows)} workflows in {inv.namespace}, poll {polls}; Ctrl-C to stop",
        style="dim" if out.color else "",
    )
    return Group(table, footer) if rows else Group(Text(f"No workflows in {inv.namespace}."), footer)


def _watch_workflow(
    inv: Invocation, workflow_id: str, run_id: str | None, interval: int, max_polls: int | None
) -> Mapping[str, Any]:
    async def run(client: Client) -> Mapping[str, Any]:
        previous: dict[str, Any] | None = None
        polls = 0
        with _live(inv) as live:
            while True:
                if run_id:
                    body = (await client.describe_workflow_run(workflow_id, run_id)).raw
                else:
                    body = (await client.describe_workflow(workflow_id)).raw
                polls += 1
                if live is not None:
                    live.update(_workflow_view(inv, body, polls), refresh=True)
                elif previous is None:
                    inv.out.line(f"{_stamp(inv)} Watching {workflow_id} in namespace {inv.namespace}")
                    for key in WATCHED:
                        if body.get(key) is not None:
                            inv.out.line(f"{_stamp(inv)} {key}: {_show(body.get(key))}")
                else:
                    for key in WATCHED:
                        if body.get(key) != previous.get(key):
                            before, after = _show(previous.get(key)), _show(body.get(key))
                            inv.out.line(f"{_stamp(inv)} {key}: {before} -> {after}")
                previous = dict(body)
                if is_terminal(body):
                    return body
                if max_polls is not None and polls >= max_polls:
                    raise CliError(
                        f"Stopped after {polls} polls; {workflow_id} is still {body.get('status')}.",
                        ExitCode.TIMEOUT,
                        reason="max_polls_reached",
                    )
                await inv.runtime.sleep(interval)

    return inv.call(run)


def _watch_list(
    inv: Invocation,
    interval: int,
    max_polls: int | None,
    filters: Callable[[Client], Any],
) -> None:
    async def run(client: Client) -> None:
        previous: list[tuple[Any, Any]] | None = None
        polls = 0
        with _live(inv) as live:
            while True:
                rows = [dict(row) for row in (await filters(client)).raw.get("workflows") or []]
                polls += 1
                if live is not None:
                    live.update(_list_view(inv, rows, polls), refresh=True)
                else:
                    seen = [(row.get("workflow_id"), row.get("status")) for row in rows]
                    if seen != previous:
                        inv.out.line(f"{_stamp(inv)} {len(rows)} workflows in {inv.namespace}")
                        for workflow_id, state in seen:
                            inv.out.line(f"  {workflow_id}  {state}")
                    previous = seen
                if max_polls is not None and polls >= max_polls:
                    return
                await inv.runtime.sleep(interval)

    inv.call(run)


@command(
    "watch",
    summary="Watch a workflow (or the workflow list) change, live; Ctrl-C stops.",
    example="dw watch workflow order-42 --interval=5",
    json_flag=False,
    output=False,
)
@click.argument("target", metavar="workflow|workflows")
@click.argument("workflow_id", required=False)
@click.option("--run-id", "-r", help="Watch this run instead of the current one.")
@click.option(
    "--interval",
    "-i",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Seconds between polls.",
)
@click.option("--max-polls", type=click.IntRange(min=1), help="Stop after this many polls.")
@click.option("--type", "-t", "workflow_type", help="workflows: only this workflow type.")
@click.option("--status", "status_filter", help="workflows: only this status bucket.")
@click.option("--query", help="workflows: a visibility query.")
@click.option("--limit", "-l", type=int, default=20, show_default=True, help="workflows: rows to show.")
def watch(
    inv: Invocation,
    target: str,
    workflow_id: str | None,
    run_id: str | None,
    interval: int,
    max_polls: int | None,
    workflow_type: str | None,
    status_filter: str | None,
    query: str | None,
    limit: int,
) -> None:
    if target not in TARGETS:
        raise invalid(
            f"watch takes 'workflow <id>' or 'workflows' (got {target!r}).",
            command="dw watch workflow <workflow-id>",
        )
    try:
        if target == "workflows":
            _watch_list(
                inv,
                interval,
                max_polls,
                lambda client: client.list_workflows(
                    workflow_type=workflow_type, status=status_filter, query=query, page_size=limit
                ),
            )
            return
        if workflow_id is None:
            raise invalid("watch workflow needs a workflow id.", command="dw watch workflow <workflow-id>")
        final = _watch_workflow(inv, workflow_id, run_id, interval, max_polls)
    except KeyboardInterrupt:
        # Ctrl-C is how a watch is meant to end: the view stays as last drawn, no error.
        inv.out.note("Stopped watching.")
        return
    completed = final.get("status_bucket") == "completed" or final.get("status") == "completed"
    if not completed:
        inv.ctx.exit(1)


COMMANDS = (watch,)
