"""Shell completion for bash, zsh and fish, on click's completion machinery.

``dw completion bash|zsh|fish`` prints the script; the script calls ``dw`` back with
``_DW_COMPLETE=<shell>_complete`` and click answers with candidates for the word being typed:
command names, option names, and option or argument values from three sources:

* the fixed value lists of cli.md §3.13 (statuses, policies, drivers, encodings ...), by option
  name, by the command's area for ``--status``, or by argument position;
* names on this machine: profiles for ``--env``;
* names on the server, where that is cheap: workflow ids for ``workflow_id`` arguments and
  namespaces for ``--namespace`` and the ``namespace:*`` name arguments. One small list call,
  bounded by a short timeout, and silent on any failure (no server, no token, no network): a
  completion never prints an error into someone's prompt.

The hints are attached only when a completion is asked for (``install``), so ``dw --help`` and
every other run pay nothing for them. Colon command names need care in bash, which splits words
at ``:``; :class:`DwBashComplete` reads the whole line instead and trims what bash already has.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import BashComplete, CompletionItem, add_completion_class, split_arg_string

from . import options, profiles, runtime
from .settings import resolve

if TYPE_CHECKING:
    from durable_workflow.client import Client

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_DW_COMPLETE"
SERVER_TIMEOUT_SECONDS = 1.5
SERVER_LIST_SIZE = 50

WORKFLOW_STATUS = ("running", "completed", "failed")
OVERLAP_POLICIES = ("skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all")
STORAGE_DRIVERS = ("local", "s3", "gcs", "azure")
SEARCH_ATTRIBUTE_TYPES = ("keyword", "text", "int", "double", "bool", "datetime", "keyword_list")

# Values by option name, whatever the command (cli.md §3.13).
OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "--duplicate-policy": ("fail", "use-existing"),
    "--overlap-policy": OVERLAP_POLICIES,
    "--input-encoding": ("json", "raw", "base64"),
    "--driver": STORAGE_DRIVERS,
    "--db": ("sqlite", "mysql", "pgsql"),
    "--failure-kind": (
        "application",
        "timeout",
        "cancellation",
        "malformed_output",
        "handler_crash",
        "decode_failure",
        "unsupported_payload",
    ),
    "--timeout-type": (
        "schedule_to_start",
        "start_to_close",
        "schedule_to_close",
        "heartbeat",
        "deadline_exceeded",
    ),
    "--runtime": ("php", "python", "rust", "typescript", "go", "java", "external"),
    "--action": ("start_workflow", "signal_workflow", "update_workflow"),
    "--tls-verify": ("true", "false"),
    "--profile-output": ("table", "json", "jsonl"),
}
# ``--status`` means another thing in each area; ``--wait`` takes a value only on workflow:update.
STATUS_BY_AREA: dict[str, tuple[str, ...]] = {
    "workflow": WORKFLOW_STATUS,
    "": WORKFLOW_STATUS,  # watch workflows
    "schedule": ("active", "paused"),
    "worker": ("active", "stale", "draining"),
}
COMMAND_OPTION_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("workflow:update", "--wait"): ("accepted", "completed"),
}
# Values of positional arguments: (command, index among its arguments).
ARGUMENT_VALUES: dict[tuple[str, int], tuple[str, ...]] = {
    ("search-attribute:create", 1): SEARCH_ATTRIBUTE_TYPES,
    ("namespace:set-storage-driver", 1): STORAGE_DRIVERS,
    ("watch", 0): ("workflow", "workflows"),
}
NAMESPACE_ARGUMENTS = frozenset(
    {"namespace:describe", "namespace:update", "namespace:delete", "namespace:set-storage-driver"}
)

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _fixed(values: Iterable[str]) -> Completer:
    choices = tuple(values)

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(value) for value in choices if value.startswith(incomplete)]

    return complete


def _profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    try:
        config = profiles.load(runtime.current(ctx).env())
    except Exception:
        return []
    return [CompletionItem(name) for name in sorted(config.envs) if name.startswith(incomplete)]


def _from_server(ctx: click.Context, fetch: Callable[[Client], Any], incomplete: str) -> list[CompletionItem]:
    """Ask the server (settings as the command line so far resolves them); ``[]`` on any failure."""
    import asyncio

    from .connection import connect

    surroundings = runtime.current(ctx)
    client_logger = logging.getLogger("durable_workflow")
    level = client_logger.level
    client_logger.setLevel(logging.CRITICAL)  # the client's retry warnings would land in the prompt
    try:
        environ = surroundings.env()
        settings = resolve(options.flags(ctx), environ, profiles.load(environ))

        async def ask() -> list[CompletionItem]:
            async with connect(settings, surroundings) as client:
                return list(await fetch(client))

        found = asyncio.run(asyncio.wait_for(ask(), SERVER_TIMEOUT_SECONDS))
    except Exception:  # no server, no credential, a slow network: no candidates, no noise
        return []
    finally:
        client_logger.setLevel(level)
    return [item for item in found if item.value.startswith(incomplete)]


def _workflow_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    async def fetch(client: Client) -> list[CompletionItem]:
        page = await client.list_workflows(page_size=SERVER_LIST_SIZE)
        items: dict[str, CompletionItem] = {}
        for row in page.raw.get("workflows") or []:
            workflow_id = row.get("workflow_id")
            if isinstance(workflow_id, str) and workflow_id not in items:
                described = " ".join(str(row.get(k)) for k in ("workflow_type", "status") if row.get(k))
                items[workflow_id] = CompletionItem(workflow_id, help=described or None)
        return list(items.values())

    return _from_server(ctx, fetch, incomplete)


def _namespaces(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    async def fetch(client: Client) -> list[CompletionItem]:
        listed = await client.list_namespaces()
        return [CompletionItem(ns.name, help=ns.description) for ns in listed.namespaces]

    return _from_server(ctx, fetch, incomplete)


def _completer_for(command_name: str, param: click.Parameter, argument_index: int) -> Completer | None:
    area = command_name.split(":", 1)[0] if ":" in command_name else ""
    if isinstance(param, click.Option):
        if param.is_flag or param.count:
            return None
        for opt in param.opts:
            if (command_name, opt) in COMMAND_OPTION_VALUES:
                return _fixed(COMMAND_OPTION_VALUES[(command_name, opt)])
            if opt == "--status" and area in STATUS_BY_AREA:
                return _fixed(STATUS_BY_AREA[area])
            if opt in OPTION_VALUES:
                return _fixed(OPTION_VALUES[opt])
            if opt == "--env" and command_name != "env:set":
                return _profiles
            if opt == "--namespace":
                return _namespaces
        return None
    if isinstance(param, click.Argument):
        if (command_name, argument_index) in ARGUMENT_VALUES:
            return _fixed(ARGUMENT_VALUES[(command_name, argument_index)])
        if param.name == "workflow_id":
            return _workflow_ids
        if argument_index == 0 and command_name in NAMESPACE_ARGUMENTS:
            return _namespaces
        if argument_index == 0 and command_name in ("env:use", "env:show", "env:delete"):
            return _profiles
    return None


def _attach(command_name: str, command: click.Command) -> None:
    argument_index = 0
    for param in command.params:
        completer = _completer_for(command_name, param, argument_index)
        if isinstance(param, click.Argument):
            argument_index += 1
        # A parameter whose own type completes (click.Choice, paths) or that brings its own
        # completer keeps it; the tables fill in the rest.
        if completer is None or param._custom_shell_complete is not None:
            continue
        if isinstance(param.type, (click.Choice, click.Path, click.File)):
            continue
        param._custom_shell_complete = completer


def install(group: click.Group) -> None:
    """Attach the value completers to every command of ``group`` (and the group's own options)."""
    add_completion_class(DwBashComplete, "bash")
    _attach("", group)
    for name, command in group.commands.items():
        _attach(name, command)


def script(group: click.Command, shell: str) -> str:
    """The completion script of ``shell`` for ``dw``."""
    from click.shell_completion import get_completion_class

    cls = DwBashComplete if shell == "bash" else get_completion_class(shell)
    assert cls is not None, shell
    return cls(group, {}, "dw", COMPLETE_VAR).source()


# %-formatted by click (%(prog_name)s ...): a literal percent sign is written %%.
_SOURCE_BASH = r"""# dw completion for bash: eval "$(dw completion bash)"
%(complete_func)s() {
    local IFS=$'\n'
    local line="${COMP_LINE:0:COMP_POINT}"
    local response
    response=$(env COMP_LINE="$line" %(complete_var)s=bash_complete "$1" 2>/dev/null)
    # dw completes the whole word after the last blank; bash's current word starts after the
    # last colon (COMP_WORDBREAKS), so drop what bash already holds from each candidate.
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local word="${line##*[[:space:]]}"
    local prefix=""
    if [[ "$word" == *"$cur" ]]; then
        prefix="${word%%"$cur"}"
    fi
    COMPREPLY=()
    local completion type value
    for completion in $response; do
        IFS=',' read -r type value <<< "$completion"
        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=("${value#"$prefix"}")
        fi
    done
    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s 2>/dev/null \
    || complete -F %(complete_func)s %(prog_name)s
"""


class DwBashComplete(BashComplete):
    """Bash completion that reads ``COMP_LINE``, so ``workflow:des<TAB>`` is one word."""

    source_template = _SOURCE_BASH

    def source(self) -> str:
        # click's version probe runs `bash --version`; this script works on bash 3.2 as well.
        return self.source_template % dict(self.source_vars())

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE", "")
        words = split_arg_string(line)
        incomplete = ""
        if words and line and not line[-1].isspace():
            incomplete = words.pop()
        return words[1:], incomplete
