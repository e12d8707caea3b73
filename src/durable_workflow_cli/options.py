"""The shared options: connection and output flags, accepted before and after the command name.

The flags are declared on the ``dw`` group and again on each command. They do not reach the
command functions as parameters: each one's callback records it in the invocation's
:class:`~durable_workflow_cli.settings.Flags` (the command's callbacks run after the group's, so a
flag written after the command name wins), and the resolver reads them from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from .settings import Flags

F = TypeVar("F", bound=Callable[..., Any])
FLAGS_KEY = "durable_workflow_cli.flags"
OUTPUT_CHOICES = ("table", "json", "jsonl")


def flags(ctx: click.Context) -> Flags:
    """The flags of this invocation (shared by the group and the command)."""
    meta = ctx.find_root().meta
    found = meta.get(FLAGS_KEY)
    if not isinstance(found, Flags):
        found = Flags()
        meta[FLAGS_KEY] = found
    return found


def _recorder(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def record(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None and value is not False:
            setattr(flags(ctx), name, value)
        return value

    return record


def _flag(*decls: str, name: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*decls, callback=_recorder(name), expose_value=False, help=help, **kwargs)


SERVER = _flag(
    "--server", "-s", name="server", metavar="URL", help="Server URL (env DURABLE_WORKFLOW_SERVER_URL)."
)
NAMESPACE = _flag(
    "--namespace", name="namespace", metavar="NAME", help="Namespace (env DURABLE_WORKFLOW_NAMESPACE)."
)
TOKEN = _flag(
    "--token", name="token", metavar="TOKEN", help="Bearer token (env DURABLE_WORKFLOW_AUTH_TOKEN)."
)
TLS_VERIFY = _flag(
    "--tls-verify", name="tls_verify", metavar="BOOL", help="Verify TLS certificates (true/false)."
)
ENV = _flag("--env", name="env", metavar="PROFILE", help="Use this profile (env DW_ENV).")
OUTPUT = _flag(
    "--output", name="output", type=click.Choice(OUTPUT_CHOICES), help="Output format (default: table)."
)
JSON = _flag(
    "--json", name="json", is_flag=True, default=False, help="Print one JSON document (--output=json)."
)


def _count_verbose(ctx: click.Context, param: click.Parameter, value: int) -> int:
    # Counted across the group and the command: ``dw -v workflow:list -v`` is ``-vv``.
    flags(ctx).verbose += value or 0
    return value


VERBOSE = click.option(
    "--verbose",
    "-v",
    count=True,
    callback=_count_verbose,
    expose_value=False,
    help="Show the SDK's log lines on stderr (-vv more, -vvv with HTTP details).",
)


def apply(f: F, decorators: tuple[Callable[[F], F], ...]) -> F:
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


CONNECTION_OPTIONS = (SERVER, NAMESPACE, TOKEN, TLS_VERIFY, ENV, VERBOSE)


def connection_options(f: F) -> F:
    """``--server --namespace --token --tls-verify --env --verbose``."""
    return apply(f, CONNECTION_OPTIONS)


def output_options(*, json_flag: bool = True) -> Callable[[F], F]:
    """``--output`` and, unless ``json_flag`` is false, ``--json``."""

    def decorate(f: F) -> F:
        return apply(f, (OUTPUT, JSON) if json_flag else (OUTPUT,))

    return decorate


# Options several command modules declare alike.
LEASE_OWNER = click.option(
    "--lease-owner", default="cli", show_default=True, help="The lease owner (the polling worker's id)."
)
# The failure's class and stack trace, as workflow-task:fail, query-task:fail and activity:fail take them.
FAILURE_TYPE = click.option("--type", "-t", "failure_type", help="Failure type (exception class name).")
STACK_TRACE = click.option("--stack-trace", help="Stack trace text.")


def global_options(f: F) -> F:
    """Every shared flag: what the ``dw`` group accepts before the command name."""
    return apply(f, (*CONNECTION_OPTIONS, OUTPUT, JSON))
