"""``dw workflow:replay``: replay a run's recorded history against the workflow code on disk.

Beyond the reference CLI. The history comes from the server (every page of
``workflow:history``) or from a file saved by ``workflow:history-export -o``; the code is
named ``module:Class`` (or ``path/to/file.py:Class``) and imported here, with the current
directory on the import path, as a worker would import it. The replay is the SDK's own
(``durable_workflow.testing.Replayer``), so what passes here passes on a worker. A divergence
prints the replayer's non-determinism report and exits 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..command import Invocation, command
from ..errors import CliError, ExitCode, NextStep, invalid
from ..views import with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import Client
    from durable_workflow.errors import NonDeterministicReplayError
    from durable_workflow.testing import Replayer
    from durable_workflow.workflow import Command

    from ..output import ProgressBar


def load_workflow(reference: str) -> Replayer:
    """A replayer of the ``@workflow.defn`` class ``module:Class`` or ``file.py:Class`` (else exit 2)."""
    module_name, _, attribute = reference.rpartition(":")
    if not module_name or not attribute:
        raise invalid(
            f"--workflow must be module:Class or path/to/file.py:Class (got {reference!r}).",
            command="dw workflow:replay <workflow-id> --workflow=myapp.workflows:OrderWorkflow",
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise invalid(f"--workflow names {module_name}, which is not a file.")
            spec = importlib.util.spec_from_file_location(f"dw_replay_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise invalid(f"--workflow names {module_name}, which Python cannot load.")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            # As ``python -m`` would: modules of the project the command runs in are importable.
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except CliError:
        raise
    except Exception as exc:  # the user's module failed to import: say why, no traceback
        raise invalid(f"Cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    found = getattr(module, attribute, None)
    if found is None:
        raise invalid(f"{module_name} has no attribute {attribute!r}.")
    from durable_workflow.testing import Replayer

    try:
        return Replayer(workflows=[found])
    except TypeError:
        raise invalid(f"{reference} is not a workflow (decorate it with @workflow.defn).") from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise invalid(f"Cannot read --history-file {path}: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise invalid(f"--history-file {path} is not JSON: {exc}.") from None
    if isinstance(document, list):
        return {"events": document}
    if not isinstance(document, dict):
        raise invalid(f"--history-file {path} holds neither an export bundle nor an event list.")
    return document


def _events(history: dict[str, Any]) -> list[Any]:
    for key in ("events", "history_events", "history"):
        if isinstance(history.get(key), list):
            return list(history[key])
    return []


def _identity(history: dict[str, Any], key: str, bundle_key: str) -> str | None:
    """``key`` of a saved event list, or ``bundle_key`` of an export bundle's ``workflow`` block."""
    workflow = history.get("workflow")
    for value in (history.get(key), workflow.get(bundle_key) if isinstance(workflow, dict) else None):
        if isinstance(value, str) and value:
            return value
    return None


def _divergence(exc: NonDeterministicReplayError, retry: str) -> CliError:
    return CliError(
        f"Replay diverged from the recorded history.\n{exc}",
        ExitCode.FAILURE,
        reason="non_deterministic_replay",
        next_steps=[
            NextStep(
                "replay.non_deterministic",
                "Make the code yield what history recorded (or version the change), then replay again.",
                retry,
            )
        ],
        details={
            "deterministic": False,
            "workflow_type": exc.workflow_type,
            "run_id": exc.run_id,
            "step": exc.step,
            "recorded": exc.recorded,
            "yielded": exc.yielded,
            "location": exc.location,
        },
    )


def _describe(command: Command) -> str:
    return command.describe()


@command(
    "workflow:replay",
    summary="Replay a run's history against local code (exit 1 when it diverges).",
    example="dw workflow:replay order-42 --workflow=myapp.workflows:OrderWorkflow",
)
@click.argument("workflow_id", required=False)
@click.option("--run-id", "-r", help="Replay this run (default: the current run).")
@click.option(
    "--workflow",
    "workflow_ref",
    required=True,
    metavar="MODULE:CLASS",
    help="The workflow code: module:Class or path/to/file.py:Class.",
)
@click.option(
    "--history-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Replay a saved workflow:history-export bundle instead of asking the server.",
)
def replay(
    inv: Invocation,
    workflow_id: str | None,
    run_id: str | None,
    workflow_ref: str,
    history_file: Path | None,
) -> None:
    replayer = load_workflow(workflow_ref)
    if history_file is not None:
        history = _read_file(history_file)
        source = f"file {history_file}"
    elif workflow_id is not None:
        named = workflow_id
        _ = inv.settings  # resolved first: with a profile of output=json no bar is drawn
        with inv.out.progress(f"Reading the history of {named}", total=None, unit="events") as tracker:
            history = inv.call(lambda client: _fetch(client, named, run_id, tracker))
        source = f"server {inv.settings.server}"
    else:
        raise invalid(
            "Name the workflow to replay, or give --history-file.",
            command="dw workflow:replay <workflow-id> --workflow=module:Class",
        )
    events = _events(history)
    workflow_id = workflow_id or _identity(history, "workflow_id", "instance_id")
    run_id = run_id or _identity(history, "run_id", "run_id")
    retry = " ".join(
        ["dw workflow:replay", workflow_id or "<workflow-id>"]
        + ([f"--run-id={run_id}"] if run_id and history_file is None else [])
        + [f"--workflow={workflow_ref}"]
        + ([f"--history-file={history_file}"] if history_file is not None else [])
    )

    from durable_workflow.errors import NonDeterministicReplayError

    try:
        outcome = replayer.replay(history)
    except NonDeterministicReplayError as exc:
        raise _divergence(exc, retry) from None
    except ValueError as exc:  # wrong workflow type, unreadable external payloads, ...
        raise CliError(
            f"Cannot replay this history: {exc}", ExitCode.INVALID, reason="replay_refused"
        ) from None

    terminal = outcome.terminal
    body: dict[str, Any] = {
        "workflow_id": workflow_id,
        "run_id": run_id,
        "workflow_type": _workflow_type(events),
        "workflow": workflow_ref,
        "source": "file" if history_file is not None else "server",
        "history_file": str(history_file) if history_file is not None else None,
        "event_count": len(events),
        "deterministic": True,
        "finished": terminal is not None,
        "next_commands": [_describe(c) for c in outcome.commands],
    }
    if inv.json:
        inv.out.document(with_namespace(body, inv.namespace))
        return
    inv.out.title("Replay passed: the code yields what history recorded")
    inv.out.fields(
        [
            ("Workflow ID", workflow_id),
            ("Run ID", run_id),
            ("Type", body["workflow_type"]),
            ("Namespace", inv.namespace),
            ("Code", workflow_ref),
            ("History", f"{len(events)} events from {source}"),
            ("Ends With" if terminal is not None else "Waits On", ", ".join(body["next_commands"]) or None),
        ]
    )


def _workflow_type(events: list[Any]) -> str | None:
    """The type ``WorkflowStarted`` recorded (server pages say ``event_type``, bundles ``type``)."""
    for event in events:
        if isinstance(event, dict) and (event.get("event_type") or event.get("type")) == "WorkflowStarted":
            payload = event.get("payload")
            found = payload.get("workflow_type") if isinstance(payload, dict) else None
            return found if isinstance(found, str) else None
    return None


async def _fetch(
    client: Client, workflow_id: str, run_id: str | None, tracker: ProgressBar
) -> dict[str, Any]:
    """Every event of the run (the current one unless ``run_id``), page after page."""
    if run_id is None:
        run_id = (await client.describe_workflow(workflow_id)).run_id
        if not run_id:
            raise CliError(f"Workflow {workflow_id} has no run to replay.", ExitCode.NOT_FOUND)
    events: list[Any] = []
    token: str | None = None
    while True:
        page = await client.get_history(workflow_id, run_id, next_page_token=token)
        fresh = list(page.get("events") or [])
        events.extend(fresh)
        tracker.advance(len(fresh))
        token = page.get("next_page_token")
        if not token:
            return {"workflow_id": workflow_id, "run_id": run_id, "events": events}


COMMANDS = (replay,)
