"""Conformance: every control-plane fixture's ``cli.argv`` through the real ``dw`` click app.

Per the contract README §1.3: argv is built from the fixture (command, positionals in the
command's order, options), run against a recording transport injected through the CLI's seam
(``Runtime``) that answers the preflight's ``/cluster/info`` and then ``response_body`` (plus
what a live server adds), and the one real request is checked: method, ``/api`` path, query and
JSON body. With ``--json`` the output must be one JSON document carrying the response's facts
and valid against the command's schema in ``cli-output-schemas/`` (draft 2020-12).

Operations whose noun has no CLI command yet are in ``NOT_YET_IMPLEMENTED``: they run as strict
xfails, so one that starts passing fails the suite until it is taken out of the set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from tests.helpers.cli import Recorder, invoke, one_document, validate_published
from tests.helpers.contract import contract_dir

pytestmark = pytest.mark.conformance

CONTRACT = contract_dir()
FIXTURES = [json.loads(p.read_text()) for p in sorted((CONTRACT / "control-plane").glob("*-parity.json"))]
SCHEMAS = CONTRACT / "cli-output-schemas"

# operation → (command, positional argv keys in the command's order): README table 1.4.
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "workflow.start": ("workflow:start", ()),
    "workflow.list": ("workflow:list", ()),
    "workflow.describe": ("workflow:describe", ("workflow-id",)),
    "workflow.signal": ("workflow:signal", ("workflow-id", "signal-name")),
    "workflow.query": ("workflow:query", ("workflow-id", "query-name")),
    "workflow.update": ("workflow:update", ("workflow-id", "update-name")),
    "workflow.cancel": ("workflow:cancel", ("workflow-id",)),
    "workflow.terminate": ("workflow:terminate", ("workflow-id",)),
    "workflow.repair": ("workflow:repair", ("workflow-id",)),
    "workflow.archive": ("workflow:archive", ("workflow-id",)),
    "workflow.list_runs": ("workflow:list-runs", ("workflow-id",)),
    "workflow.show_run": ("workflow:show-run", ("workflow-id", "run-id")),
    "workflow.history": ("workflow:history", ("workflow-id", "run-id")),
    "workflow.history_export": ("workflow:history-export", ("workflow-id", "run-id")),
    "namespace.list": ("namespace:list", ()),
    "namespace.describe": ("namespace:describe", ("name",)),
    "namespace.create": ("namespace:create", ("name",)),
    "namespace.update": ("namespace:update", ("name",)),
    "namespace.delete": ("namespace:delete", ("name",)),
    "namespace.set_storage_driver": ("namespace:set-storage-driver", ("name", "driver")),
    "storage.test": ("storage:test", ()),
    "schedule.create": ("schedule:create", ()),
    "schedule.list": ("schedule:list", ()),
    **{
        f"schedule.{verb}": (f"schedule:{verb}", ("schedule-id",))
        for verb in ("describe", "update", "pause", "resume", "trigger", "backfill", "delete", "history")
    },
    "search_attribute.list": ("search-attribute:list", ()),
    "search_attribute.create": ("search-attribute:create", ("name", "type")),
    "search_attribute.delete": ("search-attribute:delete", ("name",)),
    "task_queue.list": ("task-queue:list", ()),
    "task_queue.describe": ("task-queue:describe", ("task-queue",)),
    "task_queue.build_ids": ("task-queue:build-ids", ("task-queue",)),
    "task_queue.build_id.promote": ("task-queue:promote", ("task-queue",)),
    "task_queue.build_id.drain": ("task-queue:drain", ("task-queue",)),
    "task_queue.build_id.resume": ("task-queue:resume", ("task-queue",)),
    "worker.register": ("worker:register", ("worker-id",)),
    "worker.list": ("worker:list", ()),
    "worker.describe": ("worker:describe", ("worker-id",)),
    "worker.deregister": ("worker:deregister", ("worker-id",)),
    "workflow-task.poll": ("workflow-task:poll", ("worker-id",)),
    "workflow-task.complete": ("workflow-task:complete", ("task-id", "attempt")),
    "workflow-task.fail": ("workflow-task:fail", ("task-id", "attempt")),
    "workflow-task.history": ("workflow-task:history", ("task-id", "page-token")),
    "query-task.poll": ("query-task:poll", ("worker-id",)),
    "query-task.complete": ("query-task:complete", ("query-task-id", "attempt")),
    "query-task.fail": ("query-task:fail", ("query-task-id", "attempt")),
    "activity.complete": ("activity:complete", ("task-id", "attempt-id")),
    "activity.fail": ("activity:fail", ("task-id", "attempt-id")),
    "bridge.webhook": ("bridge:webhook", ("adapter",)),
    "system.repair.status": ("system:repair-status", ()),
    "system.repair.pass": ("system:repair-pass", ()),
    "system.retention.status": ("system:retention-status", ()),
    "system.retention.pass": ("system:retention-pass", ()),
    "system.activity_timeout.status": ("system:activity-timeout-status", ()),
    "system.activity_timeout.pass": ("system:activity-timeout-pass", ()),
}

# Operations whose CLI noun is still to come (none now: every fixture's command is in dw). A
# listed operation that passes fails the suite (strict xfail), so the set cannot go stale.
NOT_YET_IMPLEMENTED: frozenset[str] = frozenset()

# Commands whose JSON is the server body untouched, without the resolved ``namespace`` the
# others add (cli.md §2.7): their document carries a namespace only when the server sent one.
PASS_THROUGH = frozenset(
    {"bridge:webhook", "worker:register", "worker:deregister", "activity:complete"}
    | {"activity:fail", "workflow-task:poll", "workflow-task:complete", "workflow-task:fail"}
    | {"workflow-task:history", "query-task:poll", "query-task:complete", "query-task:fail"}
    | {c for op, (c, _) in COMMANDS.items() if op.startswith("system.")}
)


def _registry() -> Registry[Any]:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
MANIFEST = json.loads((SCHEMAS / "manifest.json").read_text())


def validate(document: Any, command: str, *, jsonl: bool = False) -> None:
    """``document`` against the schema the manifest names for ``command``."""
    entry = MANIFEST["jsonl_commands" if jsonl else "commands"][command]
    schema = json.loads((SCHEMAS / Path(entry["schema"]).name).read_text())
    errors = sorted(Draft202012Validator(schema, registry=REGISTRY).iter_errors(document), key=str)
    assert not errors, f"{command} output does not match {entry['schema']}: {errors[0]}"
    validate_published(document, command, jsonl=jsonl)  # and dw's own schema of it


def argv_for(fixture: dict[str, Any]) -> list[str]:
    command, positionals = COMMANDS[fixture["operation"]]
    given = fixture["cli"]["argv"]
    argv = [command, *(str(given[key]) for key in positionals if key in given)]
    for key, value in given.items():
        if not key.startswith("--"):
            assert key in positionals, f"{fixture['operation']}: unknown positional {key!r}"
            continue
        if value is True:
            argv.append(key)
        elif isinstance(value, list):
            argv.extend(f"{key}={item}" for item in value)
        else:
            argv.append(f"{key}={value}")
    return argv


def server_answer(fixture: dict[str, Any]) -> httpx.Response:
    """``response_body`` plus what a live server adds (version headers, envelope metadata)."""
    body = dict(fixture.get("response_body") or {})
    path = fixture["request"]["path"]
    if path.startswith("/worker/"):
        body.setdefault("protocol_version", "1.1")
        headers = {"X-Durable-Workflow-Protocol-Version": "1.1"}
    else:
        if path.startswith("/workflows") and not path.endswith("/export"):
            body.setdefault(
                "control_plane", {"schema": "durable-workflow.v2.control-plane-response", "version": 1}
            )
        headers = {"X-Durable-Workflow-Control-Plane-Version": "2"}
    status = 201 if fixture["operation"] in ("workflow.start", "worker.register") else 200
    return httpx.Response(status, json=body, headers=headers)


def _query_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _contains(actual: Any, expected: Any, where: str) -> None:
    """``expected``'s facts are in ``actual`` (objects may gain fields, e.g. ``namespace``)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            _contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: list differs"
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            _contains(got, want, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def check(fixture: dict[str, Any], tmp_path: Path) -> None:
    recorder = Recorder(lambda request: server_answer(fixture))
    argv = argv_for(fixture)
    result = invoke(argv, transport=recorder.transport(), config_home=tmp_path)
    assert result.exit_code == 0, f"dw {' '.join(argv)} exited {result.exit_code}: {result.output}"
    assert recorder.preflights == 1
    assert len(recorder.requests) == 1, [str(r.url) for r in recorder.requests]
    (request,) = recorder.requests
    expected = fixture["request"]
    cli = fixture["cli"]
    assert request.method == expected["method"]
    assert request.url.path == "/api" + expected["path"]
    want_query = cli.get("expected_query") or expected.get("query") or {}
    assert dict(request.url.params) == {k: _query_text(v) for k, v in want_query.items()}
    want_body = cli.get("expected_body", expected.get("body", {}))
    sent = json.loads(request.content) if request.content else {}
    if request.method != "GET":
        assert sent == want_body
    if cli["argv"].get("--json") is True:
        document = one_document(result)
        _contains(document, fixture.get("response_body") or {}, "output")
        # The server's namespace when it sent one, else the resolved one (none for PASS_THROUGH);
        # a namespace command's document names the namespace it is about (README §1.3).
        sent_namespace = (fixture.get("response_body") or {}).get("namespace")
        about = cli["argv"].get("name") if fixture["operation"].startswith("namespace.") else None
        if argv[0] in PASS_THROUGH:
            assert document.get("namespace") == sent_namespace
        else:
            assert document["namespace"] == (sent_namespace or about or "default")
        validate(document, argv[0])


@pytest.mark.parametrize(
    "fixture",
    [
        pytest.param(
            f,
            marks=[pytest.mark.xfail(strict=True, reason="CLI noun not built yet")]
            if f["operation"] in NOT_YET_IMPLEMENTED
            else [],
        )
        for f in FIXTURES
    ],
    ids=[f["operation"] for f in FIXTURES],
)
def test_cli_sends_the_fixture_request(fixture: dict[str, Any], tmp_path: Path) -> None:
    check(fixture, tmp_path)


def test_every_operation_has_a_command() -> None:
    operations = {f["operation"] for f in FIXTURES}
    assert operations == COMMANDS.keys()
    assert operations >= NOT_YET_IMPLEMENTED


def test_manifest_digests_match_the_schema_files() -> None:
    import hashlib

    for section in ("commands", "jsonl_commands"):
        for command, entry in MANIFEST[section].items():
            data = (SCHEMAS / Path(entry["schema"]).name).read_bytes()
            assert entry["sha256"] == "sha256:" + hashlib.sha256(data).hexdigest(), command
