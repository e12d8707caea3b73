"""How a ``dw`` command is declared and run: the ``@command`` decorator and :class:`Invocation`.

A command module writes::

    @command("workflow:describe", summary="Describe a workflow.", example="dw workflow:describe wf-1")
    @click.argument("workflow_id")
    def describe(inv: Invocation, workflow_id: str) -> None:
        body = inv.call(lambda client: client.describe_workflow(workflow_id))
        ...

The decorator adds the shared connection and output options, the help text (summary and
example) and the error boundary: a :class:`~durable_workflow_cli.errors.CliError`, or any SDK
exception (mapped in ``errors.from_exception``), is rendered as the error block (or the JSON
error object) and becomes the exit code. ``inv.call`` opens the SDK client of ``connection.py``
and runs the preflight check before the command's own calls.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import options, profiles, runtime
from .errors import CliError, ExitCode, from_exception
from .output import Renderer
from .settings import DEFAULT_SERVER, Settings, resolve

if TYPE_CHECKING:
    from durable_workflow.client import Client

T = TypeVar("T")


@dataclass(frozen=True)
class Spec:
    """What the framework needs to know of a command.

    Attributes:
        name: The colon name (``workflow:start``); its prefix is the area ``dw`` lists it under.
        summary: One line, shown in listings and at the top of ``--help``.
        example: A command line shown under ``Example:`` in ``--help``.
        server: Talks to a server: gets the connection options and resolved settings.
        preflight: Checks ``/cluster/info`` compatibility before its calls (exit 8).
        worker_plane: The preflight also requires a compatible worker protocol.
        namespaced: Errors carry the namespace (``Namespace:`` line, JSON ``namespace``).
        json_flag: Has ``--json`` (else only ``--output``).
        output: Has output options at all.
        aliases: Other names of the command (``workflows:list``).
    """

    name: str
    summary: str
    example: str
    server: bool = True
    preflight: bool = True
    worker_plane: bool = False
    namespaced: bool = True
    json_flag: bool = True
    output: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def area(self) -> str:
        return self.name.split(":", 1)[0] if ":" in self.name else ""


class DwCommand(click.Command):
    """A click command carrying its :class:`Spec`."""

    spec: Spec


class Invocation:
    """One run of one command: its settings, its renderer, its way to the server."""

    def __init__(self, ctx: click.Context, spec: Spec) -> None:
        self.ctx = ctx
        self.spec = spec
        self.runtime = runtime.current(ctx)
        self.flags = options.flags(ctx)
        self._settings: Settings | None = None
        self._out: Renderer | None = None

    @property
    def settings(self) -> Settings:
        """The resolved settings (flag > environment > profile > default)."""
        if self._settings is None:
            env = self.runtime.env()
            self._settings = resolve(self.flags, env, profiles.load(env))
        return self._settings

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    @property
    def output_mode(self) -> str:
        if self._settings is not None:
            return self._settings.output
        if self.flags.json:
            return "json"
        return self.flags.output or "table"

    @property
    def out(self) -> Renderer:
        """The renderer (its mode follows the settings once they are resolved)."""
        if self._out is None or self._out.mode != self.output_mode:
            env = self.runtime.env()
            color = self.runtime.color
            if color is None:
                color = sys.stdout.isatty() and not env.get("NO_COLOR")
            interactive = self.runtime.interactive
            if interactive is None:
                interactive = sys.stderr.isatty()
            self._out = Renderer(
                self.output_mode,
                color=bool(color),
                width=self.runtime.width,
                now=self.runtime.clock(),
                interactive=interactive,
            )
        return self._out

    @property
    def json(self) -> bool:
        """Whether this run prints JSON (``--json``, ``--output=json|jsonl``)."""
        return self.output_mode in ("json", "jsonl")

    def call(self, fn: Callable[[Client], Awaitable[T]]) -> T:
        """Run ``fn`` with a connected SDK client (after the preflight check) and return its value."""
        # asyncio costs tens of milliseconds to import: paid by commands that call, not by --help.
        import asyncio

        settings = self.settings

        async def run() -> T:
            from .connection import connect, preflight

            async with connect(settings, self.runtime, verbose=self.flags.verbose) as client:
                if self.spec.preflight:
                    await preflight(client, worker_plane=self.spec.worker_plane)
                return await fn(client)

        return asyncio.run(run())

    def fail(self, err: CliError) -> None:
        """Render ``err`` and exit with its code."""
        namespace = None
        if self.spec.namespaced and self.spec.server:
            try:
                namespace = self.settings.namespace
            except CliError:
                namespace = None
        self.out.error(err, command=self.spec.name, namespace=namespace)
        self.ctx.exit(int(err.exit_code))


# The command's own identifiers the JSON error object carries (cli.md §2.9), under these names.
OWN_ARGUMENTS = ("workflow_id", "signal_name", "query_name", "update_name", "run_id")


def _with_own_arguments(err: CliError, params: dict[str, Any]) -> None:
    """Copy the command's own identifiers into ``err``; the server's diagnostic copies win."""
    for key in OWN_ARGUMENTS:
        if params.get(key) is not None:
            err.details.setdefault(key, params[key])


def _server_hint(inv: Invocation) -> str:
    try:
        return inv.settings.server
    except CliError:
        return DEFAULT_SERVER


def command(
    name: str, *, summary: str, example: str, **spec: Any
) -> Callable[[Callable[..., None]], DwCommand]:
    """Declare a ``dw`` command; the function takes the :class:`Invocation` and its parameters."""
    described = Spec(name=name, summary=summary, example=example, **spec)

    def decorate(fn: Callable[..., None]) -> DwCommand:
        @functools.wraps(fn)
        def callback(**params: Any) -> None:
            ctx = click.get_current_context()
            inv = Invocation(ctx, described)
            try:
                fn(inv, **params)
            except (click.exceptions.Exit, click.ClickException, click.Abort):
                raise
            except KeyboardInterrupt:
                inv.out.note("Interrupted.")
                ctx.exit(130)
            except Exception as exc:
                err = from_exception(exc, server=_server_hint(inv), command=described.name)
                if err is None:
                    # A bug of ours, not the user's: still one block, never a traceback.
                    err = CliError(f"Unexpected error: {type(exc).__name__}: {exc}", ExitCode.FAILURE)
                _with_own_arguments(err, params)
                inv.fail(err)

        # functools.wraps shares the function's list of click parameters; copy it first.
        own = list(getattr(fn, "__click_params__", []))
        callback.__click_params__ = []  # type: ignore[attr-defined]
        wrapped: Callable[..., None] = callback
        if described.server:
            wrapped = options.connection_options(wrapped)
        if described.output:
            wrapped = options.output_options(json_flag=described.json_flag)(wrapped)
        # click lists parameters in reverse order of this list: the command's own come first.
        wrapped.__click_params__ = [*wrapped.__click_params__, *own]  # type: ignore[attr-defined]
        # A command function's docstring (argument values, caveats) goes between summary and example.
        details = " ".join(fn.__doc__.split()) + "\n\n" if fn.__doc__ else ""
        help_text = f"{summary}\n\n{details}\b\nExample:\n  {example}"
        made = click.command(name, cls=DwCommand, help=help_text, short_help=summary)(wrapped)
        assert isinstance(made, DwCommand)
        made.spec = described
        return made

    return decorate
