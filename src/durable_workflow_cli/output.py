"""All terminal output of ``dw`` goes through here (the only module that prints).

Human text goes to stdout, diagnostics and errors to stderr. ``--json`` prints exactly one
compact JSON document on stdout, ``--output=jsonl`` one line per record of a list command.
Human views are rich tables and key/value blocks that fit the terminal (80 columns when it is
not one); status words are coloured only on a terminal, never with ``NO_COLOR``.

rich is imported on first human output, so ``dw --help`` and JSON runs do not pay for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import CliError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

GREEN = frozenset(
    {"active", "accepted", "completed", "healthy", "ok", "ready", "success", "serving", "succeeded", "pass"}
    | {"started_new", "signal_received", "update_completed", "update_accepted", "registered", "triggered"}
)
YELLOW = frozenset(
    {"running", "pending", "paused", "draining", "stale", "degraded", "waiting", "buffered", "open"}
    | {"scheduled", "started", "continued", "skipped", "warning"}
)
RED = frozenset(
    {"failed", "cancelled", "canceled", "terminated", "timed_out", "error", "rejected", "unhealthy"}
    | {"unavailable", "refused", "update_failed", "update_refused", "trigger_failed", "fail"}
)


def line(text: str = "") -> None:
    """A line of human output on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """A diagnostic line on stderr (never mixed into JSON output)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def error(text: str) -> None:
    """An error message on stderr."""
    sys.stderr.write(f"Error: {text}\n")
    sys.stderr.flush()


def document(value: Any, *, pretty: bool = False) -> None:
    """One JSON document on stdout: compact, or indented where cli.md asks for it."""
    if pretty:
        text = json.dumps(value, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def status_style(word: str) -> str | None:
    """The rich style of a status word (``None`` for words with no meaning attached)."""
    key = word.strip().lower()
    if key in GREEN:
        return "green"
    if key in YELLOW:
        return "yellow"
    if key in RED:
        return "red"
    return None


@dataclass(frozen=True)
class Status:
    """A value shown as a status word (coloured in human output)."""

    word: str


class Moment(str):
    """A time as shown (``Renderer.moment``): a table never breaks it across lines."""

    __slots__ = ()


def parse_moment(value: str) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; no zone means UTC), or ``None`` when it is not one."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def relative(moment: datetime, now: datetime) -> str:
    """``5s ago``, ``3m ago``, ``in 2h``, ``just now``."""
    seconds = (now - moment).total_seconds()
    future, span = seconds < 0, abs(seconds)
    if span < 1:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if span >= size:
            amount = f"{int(span // size)}{unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"  # pragma: no cover - the loop always returns


class Renderer:
    """Human views and JSON documents for one invocation.

    Args:
        mode: ``table``, ``json`` or ``jsonl``.
        color: Whether status words are coloured.
        width: The width of human views (``None``: the terminal's, 80 when not a terminal).
        now: The current time, for relative times.
        interactive: Whether progress bars are drawn (stderr is a terminal).
    """

    def __init__(
        self, mode: str, *, color: bool, width: int | None, now: datetime, interactive: bool = False
    ) -> None:
        self.mode = mode
        self.color = color
        self.width = width
        self.now = now
        self.interactive = interactive
        self._console: Console | None = None
        self._err_console: Console | None = None

    @property
    def json_mode(self) -> bool:
        """``--json`` or ``--output=json|jsonl``."""
        return self.mode in ("json", "jsonl")

    # ------------------------------------------------------------------ JSON

    def document(self, value: Any, *, pretty: bool = False) -> None:
        """The command's one JSON document."""
        document(value, pretty=pretty)

    def records(self, envelope: Mapping[str, Any], key: str) -> None:
        """A list command's JSON: the envelope (``json``) or one line per item of ``key`` (``jsonl``)."""
        if self.mode == "jsonl":
            items = envelope.get(key)
            for item in items if isinstance(items, list) else []:
                document(item)
        else:
            document(dict(envelope))

    # ------------------------------------------------------------------ human

    def _make_console(self, stderr: bool) -> Console:
        from rich.console import Console

        return Console(
            file=sys.stderr if stderr else sys.stdout,
            width=self.width,
            color_system="standard" if self.color else None,
            force_terminal=self.color,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=False,
        )

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console(stderr=False)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = self._make_console(stderr=True)
        return self._err_console

    def text(self, value: Any) -> Text:
        """A cell or field value as rich text: statuses coloured, times absolute + relative."""
        from rich.text import Text

        if isinstance(value, Status):
            return Text(value.word, style=(status_style(value.word) or "") if self.color else "")
        if value is None:
            return Text("-")
        if isinstance(value, bool):
            return Text("yes" if value else "no")
        if isinstance(value, (dict, list)):
            return Text(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
        return Text(str(value))

    def moment(self, value: Any, *, short: bool = False) -> str | None:
        """``2026-04-22 05:00:00 UTC (3m ago)`` for an ISO time.

        ``short`` is the table form, as short as ``ls -l`` makes it: within a day of now only
        the relative time (``3m ago``, ``in 2h``), else the date and time in the current year
        (``04-20 05:00``) and the date before it (``2025-12-01``). A table keeps it on one line.
        """
        if not isinstance(value, str) or not value:
            return None
        parsed = parse_moment(value)
        if parsed is None:
            return value
        utc = parsed.astimezone(timezone.utc)
        if not short:
            return Moment(f"{utc:%Y-%m-%d %H:%M:%S} UTC ({relative(utc, self.now)})")
        if abs((self.now - utc).total_seconds()) < 86400:
            return Moment(relative(utc, self.now))
        if utc.year == self.now.astimezone(timezone.utc).year:
            return Moment(f"{utc:%m-%d %H:%M}")
        return Moment(f"{utc:%Y-%m-%d}")

    def title(self, text: str) -> None:
        """The first line of a human view."""
        from rich.text import Text

        self.console.print(Text(text, style="bold" if self.color else ""))

    def line(self, text: str = "") -> None:
        """A plain line of human output."""
        from rich.text import Text

        self.console.print(Text(text))

    def note(self, text: str) -> None:
        """A line on stderr (progress, hints); never part of a JSON document."""
        note(text)

    def fields(self, rows: Iterable[tuple[str, Any]]) -> None:
        """A key/value block; rows whose value is ``None`` are left out."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold" if self.color else None, no_wrap=True)
        grid.add_column(overflow="fold")
        shown = False
        for label, value in rows:
            if value is None or value == "" or value == {}:
                continue
            grid.add_row(label + ":", self.text(value))
            shown = True
        if shown:
            self._print(grid)

    def _print(self, renderable: Any) -> None:
        """Print a table or grid without the spaces rich pads its last column with: a copied
        line has no invisible tail, and a narrow terminal does not wrap blank cells."""
        from rich.segment import Segment, Segments

        console = self.console
        trimmed: list[Segment] = []
        for row in console.render_lines(renderable, console.options, pad=False, new_lines=False):
            while row and not row[-1].control and not row[-1].text.rstrip():
                row.pop()
            if row and not row[-1].control:
                row[-1] = Segment(row[-1].text.rstrip(), row[-1].style)
            trimmed.extend(row)
            trimmed.append(Segment.line())
        console.print(Segments(trimmed), end="")

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        empty: str,
        whole: Collection[str] = (),
    ) -> None:
        """A table with one header row; ``empty`` is printed instead when there are no rows.

        Columns named in ``whole`` (ids people copy) and columns of times and status words are
        never folded; the others give way.
        """
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        cells = [list(row) for row in rows]
        if not cells:
            self.line(empty)
            return
        for index, header in enumerate(headers):
            # Times and status words stay whole too: "5m" over "ago" reads as two values.
            atomic = any(index < len(row) and isinstance(row[index], (Moment, Status)) for row in cells)
            table.add_column(header, overflow="fold", no_wrap=header in whole or atomic)
        for row in cells:
            table.add_row(*(self.text(cell) for cell in row))
        self._print(table)

    def progress(
        self, description: str, *, total: int | None, unit: str, enabled: bool = True
    ) -> ProgressBar:
        """A progress bar on stderr for long work; it draws nothing off a terminal, in JSON mode,
        or when not ``enabled``.

        ``total`` ``None`` is work of unknown length (pages followed until the last one).
        """
        shown = enabled and self.interactive and not self.json_mode
        return ProgressBar(self._make_progress_console() if shown else None, description, total, unit)

    def _make_progress_console(self) -> Console:
        from rich.console import Console

        return Console(
            file=sys.stderr,
            width=self.width,
            color_system="standard" if self.color else None,
            force_terminal=True,
            no_color=not self.color,
            highlight=False,
            emoji=False,
        )

    # ------------------------------------------------------------------ errors

    def error(self, err: CliError, *, command: str, namespace: str | None) -> None:
        """The error: a JSON object on stdout in JSON mode, else the human block on stderr."""
        if self.json_mode:
            document(error_object(err, command=command, namespace=namespace))
            return
        from rich.text import Text

        out = self.err_console
        # Unwrapped: a message may be a preformatted report (workflow:replay's), with paths and
        # source lines a reader copies; the terminal folds what is too long for it.
        out.print(Text(f"Error: {err.message}", style="bold red" if self.color else ""), soft_wrap=True)
        if namespace is not None:
            out.print(Text(f"Namespace: {namespace}"))
        if err.reason:
            out.print(Text(f"Reason: {err.reason}"))
        for key, label in (("code", "Code"), ("error_code", "Error code"), ("type", "Type")):
            if err.details.get(key) is not None:
                out.print(Text(f"{label}: {err.details[key]}"))
        if err.details.get("rejection_reason") is not None:
            out.print(Text(f"Rejection reason: {err.details['rejection_reason']}"))
        for field_name, message in err.validation:
            out.print(Text(f"Validation: {field_name}: {message}"))
        if err.next_steps:
            out.print(Text("Next steps:"))
            for step in err.next_steps:
                out.print(Text(f"  - {step.message}"))
                if step.command:
                    out.print(Text(f"    Try: {step.command}"), soft_wrap=True)  # copied whole


class ProgressBar:
    """A rich progress bar advanced by the command, redrawn on each step (no refresh thread).

    Use as a context manager; with no console (off a terminal, JSON mode) every call is a no-op.
    """

    def __init__(self, console: Console | None, description: str, total: int | None, unit: str) -> None:
        self._console = console
        self._description = description
        self._total = total
        self._unit = unit
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        if self._console is not None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            counter = MofNCompleteColumn() if self._total is not None else TextColumn("{task.completed}")
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                counter,
                TextColumn(self._unit + "  {task.fields[detail]}"),
                console=self._console,
                auto_refresh=False,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=self._total, detail="")
            self._progress.refresh()
        return self

    def advance(self, steps: int = 1, *, detail: str = "") -> None:
        """Count ``steps`` more units done; ``detail`` is shown after the counter."""
        if self._progress is not None:
            self._progress.update(self._task, advance=steps, detail=detail)
            self._progress.refresh()

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            if self._total is None and exc[0] is None:
                # Work of unknown length is complete once it ends: draw the bar full.
                done = self._progress.tasks[0].completed
                if done:
                    self._progress.update(self._task, total=done)
            self._progress.refresh()
            self._progress.stop()


def error_object(err: CliError, *, command: str, namespace: str | None) -> dict[str, Any]:
    """The JSON error object of cli.md §2.9."""
    obj: dict[str, Any] = {"error": err.message, "exit_code": int(err.exit_code), "command": command}
    if namespace is not None:
        obj["namespace"] = namespace
    if err.status_code is not None:
        obj["status_code"] = err.status_code
    if err.reason is not None:
        obj["reason"] = err.reason
    if err.validation:
        errors: dict[str, list[str]] = {}
        for field_name, message in err.validation:
            errors.setdefault(field_name, []).append(message)
        obj["validation_errors"] = errors
    for key, value in err.details.items():
        obj.setdefault(key, value)
    if err.next_steps:
        obj["recommendations"] = [
            {"id": s.id, "severity": s.severity, "message": s.message, "command": s.command}
            for s in err.next_steps
        ]
    return obj
