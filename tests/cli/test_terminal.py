"""``dw`` as a person uses it: commands typed into a real pseudo-terminal, the screen read back.

A real ``dw server:start-dev`` listens on a free port; an interactive shell in an 80-column
pty (``tests.helpers.terminal``) runs the installed ``dw`` against it over the socket, with the
connection in ``DURABLE_WORKFLOW_*`` variables as a person would export them. Each test types
command lines and checks what the terminal shows: the table and key/value views, colours (on a
TTY, and none with ``NO_COLOR``), one error block per failure and the exit code (read from the
shell's ``$?`` in its prompt).

Selected alone with ``-m tty``; part of the normal suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from durable_workflow import Client, ScheduleAction, ScheduleSpec
from durable_workflow_cli.cli import dw
from tests.helpers.server_process import ServerProcess, free_port
from tests.helpers.terminal import Screen, Terminal

pytestmark = [pytest.mark.tty, pytest.mark.smoke]

WIDTH = 80


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("tty-server")
    process = ServerProcess(free_port(), folder / "tty.sqlite3").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def terminal(server: ServerProcess, tmp_path: Path) -> Iterator[Terminal]:
    shell = Terminal(
        tmp_path,
        {"DURABLE_WORKFLOW_SERVER_URL": server.url, "DURABLE_WORKFLOW_AUTH_TOKEN": server.token},
        width=WIDTH,
    )
    try:
        yield shell
    finally:
        shell.close()


def assert_fits(screen: Screen) -> None:
    widest = max((len(line) for line in screen.lines), default=0)
    assert widest <= WIDTH, f"a line is {widest} columns wide:\n{screen.text}"


def assert_one_error_block(screen: Screen) -> None:
    """One ``Error:`` block with its next steps, and never a traceback."""
    assert screen.text.count("Error:") == 1, screen.text
    assert screen.lines[0].startswith("Error: "), screen.text
    assert "Next steps:" in screen.text and "Try: " in screen.text, screen.text
    assert "Traceback" not in screen.text, screen.text


def test_list_and_describe_in_a_terminal(terminal: Terminal) -> None:
    started = terminal.run("dw workflow:start --type=tty.order --workflow-id=tty-1 --input='[42]'")
    assert started.exit_code == 0, started.text
    assert started.lines[0] == "Workflow started"
    assert "Workflow ID:" in started.text and "tty-1" in started.text

    listed = terminal.run("dw workflow:list")
    assert listed.exit_code == 0, listed.text
    assert listed.lines[0].split() == ["Namespace:", "default"]
    header = next(line for line in listed.lines if "Workflow ID" in line)
    assert header.split() == ["Workflow", "ID", "Type", "Business", "Key", "Status", "Started", "Closed"]
    row = next(line for line in listed.lines if line.startswith("tty-1"))
    assert row.split()[:3] == ["tty-1", "tty.order", "-"]
    assert "pending" in row or "running" in row
    assert listed.coloured, "status words are coloured on a terminal"
    assert listed.coloured_word("pending") or listed.coloured_word("running")
    assert_fits(listed)

    described = terminal.run("dw workflow:describe tty-1")
    assert described.exit_code == 0, described.text
    assert described.lines[0] == "Workflow"
    fields = {
        label.strip(): value.strip()
        for label, sep, value in (line.partition(":") for line in described.lines[1:])
        if sep and not label.startswith(" ")
    }
    assert fields["Workflow ID"] == "tty-1"
    assert fields["Type"] == "tty.order"
    assert fields["Namespace"] == "default"
    assert fields["Task Queue"] == "default"
    assert fields["Status"] in ("pending", "running")
    assert fields["Input"] == "[42]"
    assert described.coloured_word(fields["Status"])
    assert_fits(described)


def test_no_colour_with_no_color(terminal: Terminal) -> None:
    terminal.run("dw workflow:start --type=tty.order --workflow-id=tty-plain")
    plain = terminal.run("NO_COLOR=1 dw workflow:describe tty-plain")
    assert plain.exit_code == 0, plain.text
    assert "Workflow ID:" in plain.text
    assert not plain.coloured, repr(plain.raw)


def test_unknown_workflow_shows_one_error_block_and_exits_5(terminal: Terminal) -> None:
    screen = terminal.run("dw workflow:describe no-such-workflow")
    assert screen.exit_code == 5
    assert_one_error_block(screen)
    assert screen.lines[0].startswith("Error: Server error:")
    assert "Namespace: default" in screen.lines
    assert "    Try: dw workflow:list" in screen.lines
    assert screen.coloured, "the error line is red on a terminal"
    assert_fits(screen)


def test_bad_token_shows_one_error_block_and_exits_4(terminal: Terminal) -> None:
    screen = terminal.run("DURABLE_WORKFLOW_AUTH_TOKEN=wrong dw workflow:list")
    assert screen.exit_code == 4
    assert_one_error_block(screen)
    assert screen.lines[0].startswith("Error: Server error:")
    assert any(line.startswith("    Try: dw env:set") for line in screen.lines), screen.text
    assert_fits(screen)


# ---------------------------------------------------------------------------- schedule backfill


def has_command(name: str) -> bool:
    return name in dw.commands


async def make_backfill_schedule(server: ServerProcess, schedule_id: str) -> tuple[str, str]:
    """A paused every-minute schedule on ``server`` and a window of five of its minutes.

    Paused, so only the backfill starts workflows; returns the window as ISO-8601 text.
    """
    async with Client(server.url, token=server.token) as client:
        await client.create_schedule(
            schedule_id=schedule_id,
            spec=ScheduleSpec(cron_expressions=["* * * * *"]),
            action=ScheduleAction(workflow_type="tty.order", task_queue="tty"),
            paused=True,
        )
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(minutes=5)
    return start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")


@pytest.mark.xfail(
    not has_command("schedule:backfill"), reason="dw has no schedule:backfill yet", strict=True
)
def test_schedule_backfill_draws_a_progress_bar(server: ServerProcess, terminal: Terminal) -> None:
    start, end = asyncio.run(make_backfill_schedule(server, "tty-backfill"))
    screen = terminal.run(f"dw schedule:backfill tty-backfill --start-time={start} --end-time={end}")
    assert screen.exit_code == 0, screen.text
    assert "Error:" not in screen.text, screen.text
    assert "━" in screen.raw, f"no progress bar was drawn:\n{screen.text}"
    assert_fits(screen)

    # With --json the same command prints its one document and draws no bar.
    as_json = terminal.run(f"dw schedule:backfill tty-backfill --start-time={start} --end-time={end} --json")
    assert as_json.exit_code == 0, as_json.text
    assert "━" not in as_json.raw
    assert len(as_json.lines) == 1 and as_json.lines[0].startswith("{"), as_json.text
