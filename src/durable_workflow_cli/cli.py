"""The ``dw`` click group: global options, the listing by area, aliases and grouped syntax.

Commands come from ``commands/`` (one module per noun, registered in ``commands/__init__.py``).
``dw`` alone prints the commands by area. ``dw schedules create ...`` is rewritten to
``dw schedule:create ...`` before parsing (cli.md §1).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping, Sequence
from typing import Any

import click

from .command import DwCommand
from .commands import register_all
from .options import global_options

# Area titles, in listing order; an area not named here is listed under its own prefix.
AREA_TITLES: dict[str, str] = {
    "workflow": "Workflows",
    "namespace": "Namespaces",
    "storage": "External payload storage",
    "schedule": "Schedules",
    "search-attribute": "Search attributes",
    "task-queue": "Task queues",
    "worker": "Workers",
    "workflow-task": "Worker protocol (diagnostics)",
    "query-task": "Worker protocol (diagnostics)",
    "activity": "Activities",
    "bridge": "Bridge adapters",
    "system": "System maintenance",
    "server": "Server",
    "env": "Profiles",
    "schema": "Published schemas",
    "": "Other",
}

SCHEDULE_VERBS = frozenset(
    {"backfill", "create", "delete", "describe", "history", "list", "pause", "resume", "trigger", "update"}
)
# ``dw <group> <verb>`` → ``dw <area>:<verb>`` for these pairs only.
GROUPED: dict[str, tuple[str, frozenset[str]]] = {
    "workflow": ("workflow", frozenset({"list", "migrate-v1"})),
    "workflows": ("workflow", frozenset({"list", "migrate-v1"})),
    "activity": ("activity", frozenset({"list", "describe"})),
    "activities": ("activity", frozenset({"list", "describe"})),
    "schedule": (
        "schedule",
        SCHEDULE_VERBS,
    ),
    "schedules": (
        "schedule",
        SCHEDULE_VERBS,
    ),
    "search-attribute": ("search-attribute", frozenset({"create", "delete", "list"})),
    "search-attributes": ("search-attribute", frozenset({"create", "delete", "list"})),
}
# Options that take the next token as their value when written without ``=``.
_VALUE_OPTIONS = frozenset(
    {"--env", "--namespace", "--output", "--server", "--source-id", "--tls-verify", "--token", "-s"}
)
NOT_COMMANDS = {"update", "self-update"}


def rewrite_grouped(args: Sequence[str]) -> list[str]:
    """``[opts..., "schedules", "create", rest...]`` → ``["schedule:create", opts..., rest...]``."""
    tokens = list(args)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            return tokens
        if token.startswith("-"):
            index += 2 if token in _VALUE_OPTIONS else 1
            continue
        grouped = GROUPED.get(token)
        if grouped and index + 1 < len(tokens) and tokens[index + 1] in grouped[1]:
            name = f"{grouped[0]}:{tokens[index + 1]}"
            return [name, *tokens[:index], *tokens[index + 2 :]]
        return tokens
    return tokens


class DwGroup(click.Group):
    """The root group: aliases, grouped syntax, and a listing of commands by area."""

    aliases: dict[str, str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = {}

    def add_alias(self, alias: str, name: str) -> None:
        """Make ``alias`` run the command ``name``."""
        self.aliases[alias] = name

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, rewrite_grouped(args))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in NOT_COMMANDS:
            raise click.UsageError(
                f'Command "{cmd_name}" is not defined. dw is upgraded with pip: '
                "pip install --upgrade 'durable-workflow[cli]'.",
                ctx,
            )
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        # Value hints are attached only when a shell asks for candidates (completion.py).
        if os.environ.get(complete_var or "_DW_COMPLETE"):
            from .completion import install

            install(self)
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        # ``dw schedules <TAB>``: the verbs of the grouped syntax (§1), after a group word.
        words = [*ctx._protected_args, *ctx.args]
        if len(words) == 1 and words[0] in GROUPED and not incomplete.startswith("-"):
            from click.shell_completion import CompletionItem

            verbs = sorted(GROUPED[words[0]][1])
            return [CompletionItem(verb) for verb in verbs if verb.startswith(incomplete)]
        return super().shell_complete(ctx, incomplete)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        by_area: dict[str, list[tuple[str, str]]] = {}
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            area = cmd.spec.area if isinstance(cmd, DwCommand) else name.split(":", 1)[0]
            title = AREA_TITLES.get(area, area)
            by_area.setdefault(title, []).append((name, cmd.get_short_help_str(limit=60)))
        order = list(dict.fromkeys(AREA_TITLES.values()))
        for title in sorted(by_area, key=lambda t: (order.index(t) if t in order else len(order), t)):
            with formatter.section(title):
                formatter.write_dl(by_area[title])


@click.group(
    cls=DwGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@global_options
@click.option("--version", "-V", "show_version", is_flag=True, help="Print dw's version and exit.")
@click.pass_context
def dw(ctx: click.Context, show_version: bool) -> None:
    """Durable Workflow command-line interface.

    Commands are named area:verb; run `dw <command> --help` for a command's options.
    Connection settings come from flags, DURABLE_WORKFLOW_* variables or a profile (dw env:set).
    """
    if show_version:
        _print_version(ctx)
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)


register_all(dw)


def _print_version(ctx: click.Context) -> None:
    """``dw <version> (commit <sha>, built <date>)``, and a compatibility warning (cli.md §2.1)."""
    from . import options, profiles, runtime
    from .errors import CliError
    from .settings import resolve
    from .version import build_identity, compatibility_warning, target_selected

    surroundings = runtime.current(ctx)
    environ = surroundings.env()
    click.echo(build_identity(environ).line())
    flags = options.flags(ctx)
    if not target_selected(flags, environ):
        return
    try:
        settings = resolve(flags, environ, profiles.load(environ))
    except CliError:
        return  # a broken profile is for the commands that use it to report
    warning = compatibility_warning(settings, surroundings)
    if warning:
        click.echo(warning, err=True)
