"""The "CLI and Python Parity" page, run: each ``dw`` example and the Python code beside it give
the same result.

The page (``../shared/product/cli-python-parity-docs.txt``, never copied here) is read at test
time and its pairs are parsed from the text (``tests.helpers.parity_docs``), so the test follows
the page. Each column runs in a world of its own: a fresh embedded server (in process, on its own
loop) with the page's shared setup (its token, namespace and identifiers), the real SDK worker
serving the page's workflow type, and the objects the examples name (the ``billing`` namespace,
the schedule whose audit history is read). The ``dw`` column runs every command with the page's
``DURABLE_WORKFLOW_*`` variables; the Python column runs every example with a ``Client`` built
from the page's ``Client(...)`` arguments. Result *i* of one column must equal result *i* of the
other, up to what the server generates afresh (ids and times); a refusal must be the same
refusal (status and reason).

Pairs whose command is not in ``dw`` yet are strict expected failures (``NOT_IN_CLI_YET``): the
test starts passing, and must be taken out of the set, once the command lands.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import Client, ScheduleAction, ScheduleSpec, Worker, workflow
from durable_workflow.errors import ServerError
from tests.helpers import parity_docs
from tests.helpers.cli import ServerThread, invoke, server_thread, validate_output
from tests.helpers.e2e_env import e2e_settings

pytestmark = pytest.mark.conformance

DOCS = parity_docs.docs_path()
if not DOCS.is_file():
    pytest.skip(
        f"parity docs test skipped: no parity page at {DOCS} (set {parity_docs.ENV_VAR})",
        allow_module_level=True,
    )
TEXT = DOCS.read_text(encoding="utf-8")
SETUP = parity_docs.setup(TEXT)
PAIRS = parity_docs.pairs(TEXT)
BY_COMMAND = {pair.command: pair for pair in PAIRS}

# Commands another change is adding to ``dw``; delete a line when its command lands.
NOT_IN_CLI_YET: frozenset[str] = frozenset()  # every command of the page is in dw


# ---------------------------------------------------------------------------- the page's world


def _positional(command: str, index: int) -> str:
    """The ``index``-th positional argument of the page's ``command`` example."""
    values = [arg for arg in BY_COMMAND[command].argv[1:] if not arg.startswith("-")]
    return values[index]


def _option(command: str, name: str) -> str:
    for arg in BY_COMMAND[command].argv[1:]:
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{command} example has no {name}")


def page_workflow() -> type:
    """The workflow the examples talk to: the page's type, signal, query and update names.

    Its answers depend only on what the caller sent, never on how far the worker got, so both
    columns can expect the same answers: the query echoes its arguments, the update returns who
    approved. It runs until it is cancelled (the page's last workflow example).
    """

    @workflow.defn(name=SETUP.identifiers["workflow_type"])
    class PageWorkflow:
        def __init__(self) -> None:
            self.shipments: list[Any] = []
            self.approved_by: str | None = None

        @workflow.signal(_positional("workflow:signal", 1))
        def shipment(self, shipment: Any) -> None:
            self.shipments.append(shipment)

        @workflow.query(_positional("workflow:query", 1))
        def current_status(self, options: Any) -> dict[str, Any]:
            return {"options": options, "approved_by": self.approved_by}

        @workflow.update(_positional("workflow:update", 1))
        def approve(self, approval: dict[str, Any]) -> dict[str, Any]:
            self.approved_by = approval.get("approved_by")
            return {"approved": True, "approved_by": self.approved_by}

        def run(self, ctx: Any, *args: Any) -> Any:
            yield ctx.wait_condition(lambda: False, key="until-cancelled")

    return PageWorkflow


def page_client(srv: ServerThread) -> Client:
    """The page's ``Client(...)``, its requests served by the in-process server."""
    return Client(*SETUP.client_args, **SETUP.client_kwargs, transport=httpx.ASGITransport(app=srv.app))


async def _prepare(srv: ServerThread) -> None:
    """What the examples take for granted besides the workflow: its namespace and schedule."""
    async with page_client(srv) as client:
        await client.create_namespace(_positional("namespace:set-storage-driver", 0))
        schedule_id = _positional("schedule:history", 0)
        await client.create_schedule(
            schedule_id=schedule_id,
            spec=ScheduleSpec(cron_expressions=["0 0 1 1 *"]),
            action=ScheduleAction(
                workflow_type=SETUP.identifiers["workflow_type"], task_queue=SETUP.identifiers["task_queue"]
            ),
        )
        # Enough audit events that the example's page (after its --after-sequence) has two.
        for step in range(int(_option("schedule:history", "--after-sequence")) + 1):
            if step % 2 == 0:
                await client.pause_schedule(schedule_id, note=f"step {step}")
            else:
                await client.resume_schedule(schedule_id, note=f"step {step}")


async def _registered(client: Client, worker_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while worker_id not in [
        w["worker_id"] for w in (await client.get_cluster_info())["worker_fleet"]["workers"]
    ]:
        assert loop.time() < deadline, "the worker never registered"
        await asyncio.sleep(0.01)


def _settled(body: dict[str, Any]) -> bool:
    """Whether the worker has caught up: the run is closed, or parked on its condition with no
    signal or update left to apply."""
    if body.get("is_terminal"):
        return True
    waiting = body.get("waiting_on") or {}
    return (
        bool(waiting.get("condition_waits"))
        and not waiting.get("updates")
        and not ((waiting.get("signals") or {}).get("count"))
    )


async def settle(srv: ServerThread) -> None:
    """Wait until the page's workflow (if started) is settled, so both columns send each example
    to a run in the same state and the server numbers its history alike.

    The worker's progress shows only in what the server reports, so this polls the description
    until a deadline.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    async with page_client(srv) as client:
        while True:
            try:
                body = (await client.describe_workflow(SETUP.identifiers["workflow_id"])).raw
            except ServerError as exc:
                if exc.status_code == 404:
                    return  # not started yet
                raise
            if _settled(body):
                return
            assert loop.time() < deadline, f"the worker never caught up: {body.get('waiting_on')}"
            await asyncio.sleep(0.01)


async def left_behind(srv: ServerThread) -> dict[str, Any]:
    """What a column leaves on its server: the workflow's description and its whole history."""
    async with page_client(srv) as client:
        described = await client.describe_workflow(SETUP.identifiers["workflow_id"])
        history = await client.get_history(described.workflow_id, described.run_id or "")
    return {"workflow": described.raw, "events": history["events"]}


@dataclass
class Outcome:
    """One example's result: the answer (as a JSON-like value) or the refusal."""

    ok: bool
    value: Any
    detail: str = ""


@contextmanager
def world(tmp_path: Path) -> Iterator[ServerThread]:
    """A fresh embedded server with the page's token, the worker and the examples' objects."""
    token = SETUP.client_kwargs["token"]
    assert SETUP.environment["DURABLE_WORKFLOW_AUTH_TOKEN"] == token, "the page's two setups differ"
    settings = e2e_settings(
        f"sqlite:///{tmp_path / 'page.sqlite3'}", auth_token=token, query_task_timeout=5.0
    )
    with server_thread(settings) as srv:
        client = page_client(srv)
        worker = Worker(client, task_queue=SETUP.identifiers["task_queue"], workflows=[page_workflow()])
        running = srv.spawn(worker.run())
        srv.run(_registered(client, worker.worker_id))
        srv.run(_prepare(srv))
        try:
            yield srv
        finally:
            srv.run(worker.stop())
            running.result(30)
            srv.run(client.aclose())


def _document(stdout: str) -> Any:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    try:
        return json.loads(lines[0])
    except ValueError:
        return None


def run_cli_column(srv: ServerThread, config_home: Path) -> list[Outcome]:
    """Every ``dw`` example, in page order, with the page's variables."""
    outcomes = []
    for pair in PAIRS:
        srv.run(settle(srv))
        result = invoke(
            list(pair.argv), transport=srv.transport(), config_home=config_home, env=SETUP.environment
        )
        doc = _document(result.stdout)
        detail = f"dw {' '.join(pair.argv)} exited {result.exit_code}: {result.output}"
        if result.exit_code == 0 and isinstance(doc, dict):
            outcomes.append(Outcome(True, doc, detail))
        elif isinstance(doc, dict) and "error" in doc:
            outcomes.append(Outcome(False, _refusal(doc.get("status_code"), doc.get("reason")), detail))
        else:
            outcomes.append(Outcome(False, None, detail))
    return outcomes


def _refusal(status_code: Any, reason: Any) -> dict[str, Any]:
    return {"status_code": status_code, "reason": reason}


async def run_python_column(srv: ServerThread) -> list[Outcome]:
    """Every Python example, in page order, each with the page's ``Client``."""
    outcomes = []
    for pair in PAIRS:
        await settle(srv)
        scope: dict[str, Any] = {"client": page_client(srv)}
        code = compile(pair.code, "<parity docs>", "exec", flags=parity_docs.TOP_LEVEL_AWAIT)
        try:
            pending = eval(code, scope)
            if pending is not None:
                await pending
        except ServerError as exc:
            outcomes.append(Outcome(False, _refusal(exc.status_code, exc.reason), str(exc)))
            continue
        outcomes.append(Outcome(True, scope[pair.result_name], repr(scope[pair.result_name])))
    return outcomes


@dataclass
class Columns:
    """Both columns' outcomes (command → (dw, Python)) and what each left on its server."""

    outcomes: dict[str, tuple[Outcome, Outcome]]
    cli_world: dict[str, Any]
    python_world: dict[str, Any]


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> Columns:
    """Both columns, each run in its own world."""
    with world(tmp_path_factory.mktemp("cli-world")) as srv:
        cli = run_cli_column(srv, tmp_path_factory.mktemp("cli-config"))
        srv.run(settle(srv))
        cli_world = srv.run(left_behind(srv))
    with world(tmp_path_factory.mktemp("python-world")) as srv:
        python = srv.run(run_python_column(srv), timeout=120)
        srv.run(settle(srv))
        python_world = srv.run(left_behind(srv))
    outcomes = {pair.command: (c, p) for pair, c, p in zip(PAIRS, cli, python, strict=True)}
    return Columns(outcomes, cli_world, python_world)


# ---------------------------------------------------------------------------- comparing


# Methods whose answer is the handler's result, which ``dw`` prints as ``result``.
HANDLER_RESULTS = frozenset({"query_workflow", "update_workflow"})
GENERATED = (
    re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", re.IGNORECASE),  # ULIDs: run, command, update ids
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"),
)


def generated_away(value: Any) -> Any:
    """``value`` with what a server generates afresh (ids, times) replaced by a placeholder."""
    if isinstance(value, dict):
        return {key: generated_away(item) for key, item in value.items()}
    if isinstance(value, list):
        return [generated_away(item) for item in value]
    if isinstance(value, str):
        for pattern in GENERATED:
            value = pattern.sub("<generated>", value)
    return value


def sdk_answer(pair: parity_docs.Pair, value: Any) -> Any:
    """The SDK's answer as the server body it came from (the typed results keep it in ``raw``)."""
    if pair.method in HANDLER_RESULTS:
        return value
    raw = getattr(value, "raw", value)
    return dict(raw) if raw is not None else {}


def cli_answer(pair: parity_docs.Pair, document: dict[str, Any]) -> Any:
    return document["result"] if pair.method in HANDLER_RESULTS else document


def assert_same(pair: parity_docs.Pair, cli: Outcome, python: Outcome) -> None:
    assert cli.ok == python.ok, f"dw: {cli.detail}\nPython: {python.detail}"
    if not cli.ok:
        assert cli.value == python.value, f"different refusals\ndw: {cli.detail}\nPython: {python.detail}"
        return
    ours, theirs = cli_answer(pair, cli.value), sdk_answer(pair, python.value)
    if pair.method in HANDLER_RESULTS:
        assert ours == theirs
        return
    # Every field of the SDK's answer is in dw's document with the same value, at every depth;
    # dw adds its context fields (namespace, control-plane identity) on top, also on records
    # (schedule:history's events carry the namespace, as their schema requires).
    missing = sorted(set(theirs) - set(ours))
    assert not missing, f"dw's document lacks {missing}"
    assert generated_away(_as_in(ours, theirs)) == generated_away(theirs)


def _as_in(ours: Any, theirs: Any) -> Any:
    """``ours`` cut down to the keys ``theirs`` has, at every depth (a missing key stays missing)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return {key: _as_in(ours[key], theirs[key]) for key in theirs if key in ours}
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [_as_in(a, b) for a, b in zip(ours, theirs, strict=True)]
    return ours


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            pair.command,
            marks=[pytest.mark.xfail(strict=True, reason=f"{pair.command} is not in dw yet")]
            if pair.command in NOT_IN_CLI_YET
            else [],
        )
        for pair in PAIRS
    ],
)
def test_the_example_pair_gives_the_same_result(command: str, columns: Columns) -> None:
    pair = BY_COMMAND[command]
    cli, python = columns.outcomes[command]
    assert_same(pair, cli, python)
    if cli.ok:
        validate_output(cli.value, command)


def test_the_page_has_the_nine_documented_pairs() -> None:
    # The page's own operation table lists nine fixtures; a parser that found fewer lost some.
    assert len(PAIRS) == 9, [pair.command for pair in PAIRS]
    assert BY_COMMAND.keys() >= NOT_IN_CLI_YET


def test_both_columns_leave_the_same_workflow_behind(columns: Columns) -> None:
    # dw sends caller payloads as plain JSON, the SDK as Avro envelopes: the server records the
    # same workflow either way (input, memo, search attributes, signal and update payloads).
    assert generated_away(columns.cli_world) == generated_away(columns.python_world)
