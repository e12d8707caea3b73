"""Conformance: the control-plane / worker-plane parity fixtures of the shared contract data.

The fixtures live in ``$DW_CONTRACT_DIR/control-plane`` (see ``tests/helpers/contract.py``).

For every fixture whose operation the SDK implements: call ``sdk_python.method`` with the
fixture's ``args``/``kwargs`` against a fake transport answering ``response_body`` (plus the
version header and body fields a live server adds), then assert the HTTP method, the
``/api``-prefixed path, the query, the ``expected_body`` subset (or the full ``request_body``)
and the decoded ``payload_envelope``. Operations implemented in later issues are listed in
``NOT_YET_IMPLEMENTED``; the suite fails if a fixture is in neither list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client
from durable_workflow.protocol import codec
from tests.helpers.contract import contract_dir

pytestmark = pytest.mark.conformance

FIXTURES = sorted((contract_dir() / "control-plane").glob("*-parity.json"))

# operation → Client method (some fixtures name no method; the table is the source of truth).
IMPLEMENTED: dict[str, str] = {
    "workflow.start": "start_workflow",
    "workflow.list": "list_workflows",
    "workflow.describe": "describe_workflow",
    "workflow.signal": "signal_workflow",
    "workflow.query": "query_workflow",
    "workflow.update": "update_workflow",
    "workflow.cancel": "cancel_workflow",
    "workflow.terminate": "terminate_workflow",
    "workflow.repair": "repair_workflow",
    "workflow.archive": "archive_workflow",
    "workflow.list_runs": "list_workflow_runs",
    "workflow.show_run": "describe_workflow_run",
    "workflow.history": "get_history",
    "workflow.history_export": "export_history",
    "worker.register": "register_worker",
    "workflow-task.poll": "poll_workflow_task",
    "workflow-task.complete": "complete_workflow_task",
    "workflow-task.fail": "fail_workflow_task",
    "workflow-task.history": "workflow_task_history",
    "query-task.poll": "poll_query_task",
    "query-task.complete": "complete_query_task",
    "query-task.fail": "fail_query_task",
    "activity.complete": "complete_activity_task",
    "activity.fail": "fail_activity_task",
    # ---- issue 8: namespaces and external storage
    "namespace.create": "create_namespace",
    "namespace.delete": "delete_namespace",
    "namespace.describe": "describe_namespace",
    "namespace.list": "list_namespaces",
    "namespace.set_storage_driver": "set_namespace_external_storage",
    "namespace.update": "update_namespace",
    "storage.test": "test_external_storage",
    # ---- issue 8: schedules
    "schedule.create": "create_schedule",
    "schedule.list": "list_schedules",
    "schedule.describe": "describe_schedule",
    "schedule.update": "update_schedule",
    "schedule.delete": "delete_schedule",
    "schedule.pause": "pause_schedule",
    "schedule.resume": "resume_schedule",
    "schedule.trigger": "trigger_schedule",
    "schedule.backfill": "backfill_schedule",
    "schedule.history": "get_schedule_history",
    # ---- issue 8: search attributes
    "search_attribute.create": "create_search_attribute",
    "search_attribute.delete": "delete_search_attribute",
    "search_attribute.list": "list_search_attributes",
    # ---- issue 8: task queues and workers
    "task_queue.list": "list_task_queues",
    "task_queue.describe": "describe_task_queue",
    "task_queue.build_ids": "list_task_queue_build_ids",
    "task_queue.build_id.drain": "drain_task_queue_build_id",
    "task_queue.build_id.resume": "resume_task_queue_build_id",
    "task_queue.build_id.promote": "promote_task_queue_build_id",
    "worker.list": "list_workers",
    "worker.describe": "describe_worker",
    "worker.deregister": "deregister_worker",
    # ---- issue 8: system maintenance
    "system.repair.status": "repair_status",
    "system.repair.pass": "repair_pass",
    "system.retention.status": "retention_status",
    "system.retention.pass": "retention_pass",
    "system.activity_timeout.status": "activity_timeout_status",
    "system.activity_timeout.pass": "activity_timeout_pass",
    # ---- issue 8: webhook bridge
    "bridge.webhook": "send_webhook_bridge_event",
}

# Operations whose client methods are still to come (issue 8), one block per noun: when a noun
# lands, its block moves into IMPLEMENTED above.
NOT_YET_IMPLEMENTED = frozenset({})


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


ALL = [load(p) for p in FIXTURES]
IMPLEMENTED_FIXTURES = [f for f in ALL if f["operation"] in IMPLEMENTED]


def fixture_id(f: dict[str, Any]) -> str:
    return str(f["operation"])


# --------------------------------------------------------------------------- suite-level checks


def test_fixture_files_exist() -> None:
    assert len(FIXTURES) == 60


@pytest.mark.parametrize("fixture", ALL, ids=fixture_id)
def test_fixture_shape(fixture: dict[str, Any]) -> None:
    assert fixture["schema"] == "durable-workflow.polyglot.control-plane-request-fixture"
    assert fixture["version"] == 1
    assert fixture["operation"]
    assert fixture["request"]["method"] in {"GET", "POST", "PUT", "DELETE", "PATCH"}
    assert fixture["request"]["path"].startswith("/")
    for key in ("semantic_body", "cli", "sdk_python"):
        assert isinstance(fixture[key], dict)


def test_every_operation_is_accounted_for() -> None:
    operations = {f["operation"] for f in ALL}
    assert operations - IMPLEMENTED.keys() - NOT_YET_IMPLEMENTED == set()
    assert IMPLEMENTED.keys() & NOT_YET_IMPLEMENTED == set()
    for fixture in IMPLEMENTED_FIXTURES:
        named = fixture["sdk_python"].get("method")
        assert named in (None, IMPLEMENTED[fixture["operation"]])


# --------------------------------------------------------------------------- request parity


def server_answer(fixture: dict[str, Any]) -> httpx.Response:
    """``response_body`` plus what a live server adds (version headers, envelope metadata)."""
    body = dict(fixture.get("response_body") or {})
    path = fixture["request"]["path"]
    # "/worker/..." is the worker plane; "/workers..." (the registry) is the control plane.
    if path.startswith("/worker/"):
        body.setdefault("protocol_version", "1.1")
        body.setdefault("server_capabilities", {"long_poll_timeout": 30, "query_tasks": True})
        headers = {"X-Durable-Workflow-Protocol-Version": "1.1"}
    else:
        if path.startswith("/workflows") and not path.endswith("/export"):
            body.setdefault(
                "control_plane", {"schema": "durable-workflow.v2.control-plane-response", "version": 1}
            )
        headers = {"X-Durable-Workflow-Control-Plane-Version": "2"}
    status = 201 if fixture["operation"] in ("workflow.start", "worker.register") else 200
    return httpx.Response(status, json=body, headers=headers)


def dotted(body: dict[str, Any], field: str) -> Any:
    node: Any = body
    for part in field.split("."):
        assert isinstance(node, dict) and part in node, f"body has no {field!r}"
        node = node[part]
    return node


def drop(body: dict[str, Any], field: str) -> None:
    """Remove the dotted ``field`` from ``body``."""
    *parents, last = field.split(".")
    node: Any = body
    for part in parents:
        node = node[part]
    node.pop(last, None)


async def call(fixture: dict[str, Any]) -> tuple[httpx.Request, Any]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return server_answer(fixture)

    sdk = fixture["sdk_python"]
    kwargs = {**(sdk.get("args") or {}), **(sdk.get("kwargs") or {})}
    async with Client("http://dw.test", token="t", transport=httpx.MockTransport(handler)) as client:
        method: Callable[..., Any] = getattr(client, IMPLEMENTED[fixture["operation"]])
        result = await method(**kwargs)
    assert len(seen) == 1
    return seen[0], result


@pytest.mark.parametrize("fixture", IMPLEMENTED_FIXTURES, ids=fixture_id)
async def test_sdk_request_matches_fixture(fixture: dict[str, Any]) -> None:
    request, _ = await call(fixture)
    expected = fixture["request"]
    sdk = fixture["sdk_python"]

    assert request.method == expected["method"]
    assert request.url.path == "/api" + expected["path"]

    sent_query = dict(request.url.params)
    if "query" in expected:
        assert sent_query == {k: str(v) for k, v in expected["query"].items()}
    semantic = fixture["semantic_body"]
    for key, value in sent_query.items():  # nothing the caller did not ask for
        if key not in expected.get("query", {}):
            assert key in semantic and str(semantic[key]) == value
    for key in (fixture["cli"].get("expected_query") or {}).keys() & semantic.keys():
        assert sent_query.get(key) == str(semantic[key])

    body = json.loads(request.content) if request.content else {}
    if "request_body" in sdk:
        want = dict(sdk["request_body"])
        # Envelopes are compared by meaning: we encode with the generic wrapper (what SDK 0.4.84
        # reads), the fixture shows the Value v1 framing of the same value.
        want_env, got_env = want.pop("result_envelope", None), body.get("result_envelope")
        got = {k: v for k, v in body.items() if k != "result_envelope"}
        assert got == want
        if want_env is not None:
            assert got_env["codec"] == want_env["codec"]
            assert codec.decode_envelope(got_env) == codec.decode_envelope(want_env)
    elif "expected_body" in sdk:
        for key, value in sdk["expected_body"].items():
            assert body.get(key) == value, key
    elif "body" in expected:
        # No SDK-specific expectation: the SDK must send exactly the plain-JSON body, but for
        # the payload field, which travels encoded (checked by meaning below).
        want, got = json.loads(json.dumps(expected["body"])), json.loads(json.dumps(body))
        if sdk.get("payload_envelope"):
            field = sdk["payload_envelope"]["field"]
            drop(want, field)
            drop(got, field)
        assert got == want

    envelope_spec = sdk.get("payload_envelope")
    if envelope_spec:
        env = dotted(body, envelope_spec["field"])
        assert set(env) == {"codec", "blob"}
        assert env["codec"] == envelope_spec["codec"] == "avro"
        assert codec.decode(env["blob"]) == envelope_spec["decoded"]


# --------------------------------------------------------------------------- response decoding


def check_list(r: Any, s: dict[str, Any]) -> None:
    assert [w.workflow_id for w in r] == s["workflow_ids"]
    assert r.next_page_token == s["next_page_token"]


def check_list_runs(r: Any, s: dict[str, Any]) -> None:
    assert [run.run_id for run in r] == s["run_ids"]
    assert r.run_count == s["run_count"]


def check_describe(r: Any, s: dict[str, Any]) -> None:
    assert r.workflow_id == s["workflow_id"]
    assert r.input == [{"order_id": 42, "priority": "gold"}]


def check_show_run(r: Any, s: dict[str, Any]) -> None:
    assert (r.workflow_id, r.run_id, r.is_current_run) == (s["workflow_id"], s["run_id"], True)


def check_export(r: Any, s: dict[str, Any]) -> None:
    assert r["schema"] == s["schema"]
    assert len(r["history_events"]) == s["event_count"]


def check_start(r: Any, s: dict[str, Any]) -> None:
    assert (r.workflow_id, r.workflow_type) == (s["workflow_id"], s["workflow_type"])


def check_task_poll(r: Any, s: dict[str, Any]) -> None:
    keys = ("task_id", "workflow_id", "run_id", "workflow_task_attempt")
    assert [r[k] for k in keys] == [s[k] for k in keys]


def check_task_history(r: Any, s: dict[str, Any]) -> None:
    assert r["next_history_page_token"] == s["response_next_history_page_token"]
    assert r["total_history_events"] == s["total_history_events"]


def check_query_poll(r: Any, s: dict[str, Any]) -> None:
    assert (r["query_task_id"], r["query_name"]) == (s["query_task_id"], s["query_name"])
    assert codec.decode_envelope(r["input"]) == {"include_line_items": True}


def check_register(r: Any, s: dict[str, Any]) -> None:
    assert r["worker_id"] == s["worker_id"] and r["registered"] is True


# ---- issue 8: task queues and workers


def check_task_queue_list(r: Any, s: dict[str, Any]) -> None:
    assert r.namespace == s["namespace"]
    assert [q.name for q in r] == s["task_queue_names"]
    statuses = {q.name: q.admission.workflow_tasks.status for q in r}
    assert statuses == s["workflow_admission_statuses"]


def check_task_queue_describe(r: Any, s: dict[str, Any]) -> None:
    assert (r.name, r.namespace) == (s["task_queue"], s["namespace"])
    assert r.admission.workflow_tasks.status == s["workflow_admission_status"]
    assert r.admission.activity_tasks.status == s["activity_admission_status"]
    assert r.admission.query_tasks.status == s["query_admission_status"]
    assert r.stats.active_pollers == s["active_pollers"]
    assert [lease.task_id for lease in r.current_leases] == s["current_lease_ids"]


def check_build_ids(r: Any, s: dict[str, Any]) -> None:
    assert (r.namespace, r.task_queue) == (s["namespace"], s["task_queue"])
    assert [c.build_id for c in r] == s["build_ids"]
    assert {c.build_id or "unversioned": c.rollout_status for c in r} == s["rollout_statuses"]


def check_build_id_state(r: Any, s: dict[str, Any]) -> None:
    assert (r.namespace, r.task_queue, r.build_id) == (s["namespace"], s["task_queue"], s["build_id"])
    assert (r.drain_intent, r.drained_at) == (s["drain_intent"], s["drained_at"])
    if "promoted_at" in s:
        assert (r.promoted_at, r.new_start_selected) == (s["promoted_at"], s["new_start_selected"])


def check_worker_list(r: Any, s: dict[str, Any]) -> None:
    assert r.namespace == s["namespace"]
    assert [w.worker_id for w in r] == s["worker_ids"]
    assert {(w.task_queue, w.status) for w in r} == {(s["task_queue"], s["status"])}


def check_worker_describe(r: Any, s: dict[str, Any]) -> None:
    keys = ("worker_id", "namespace", "task_queue", "runtime", "status")
    assert [getattr(r, k) for k in keys] == [s[k] for k in keys]


def check_worker_deregister(r: Any, s: dict[str, Any]) -> None:
    assert r == s


def check_namespace(r: Any, s: dict[str, Any]) -> None:
    assert (r.name, r.description, r.retention_days, r.status) == (
        s["name"],
        s["description"],
        s["retention_days"],
        s["status"],
    )


def check_namespace_list(r: Any, s: dict[str, Any]) -> None:
    assert r.names == s["namespace_names"]
    assert {n.name: n.retention_days for n in r} == s["retention_days"]
    assert {n.name: n.status for n in r} == s["statuses"]


def check_namespace_delete(r: Any, s: dict[str, Any]) -> None:
    assert (r.name, r.status) == (s["name"], s["status"])
    assert sorted(r.deleted) == sorted(s["deleted_keys"])


def check_namespace_storage(r: Any, s: dict[str, Any]) -> None:
    policy = r.external_payload_storage
    assert r.name == s["namespace"]
    assert (policy["driver"], policy["enabled"], policy["threshold_bytes"]) == (
        s["driver"],
        s["enabled"],
        s["threshold_bytes"],
    )
    config = policy["config"]
    assert (config["disk"], config["bucket"], config["prefix"]) == (s["disk"], s["bucket"], s["prefix"])


def check_storage_test(r: Any, s: dict[str, Any]) -> None:
    assert (r.status, r.namespace, r.driver) == (s["status"], s["namespace"], s["driver"])
    assert r.passed and r.small_payload.passed and r.large_payload.passed
    assert (r.small_payload.bytes, r.large_payload.bytes) == (
        s["small_payload_bytes"],
        s["large_payload_bytes"],
    )
    assert r.large_payload.reference_uri == s["large_payload_reference_uri"]
    assert r.small_payload.reference_uri is None  # the fixture's small payload names none


# ---- issue 8: system maintenance (the reports are returned as the server sent them)


def check_repair_status(r: Any, s: dict[str, Any]) -> None:
    candidates = r["candidates"]
    for key in ("total_candidates", "existing_task_candidates", "missing_task_candidates", "scan_pressure"):
        assert candidates[key] == s[key]
    assert (r["policy"]["scan_limit"], r["policy"]["scan_strategy"]) == (s["scan_limit"], s["scan_strategy"])
    assert [scope["scope_key"] for scope in candidates["scopes"]] == s["scope_keys"]


def check_repair_pass(r: Any, s: dict[str, Any]) -> None:
    for key in s.keys() - {"namespace", "instance_id"}:
        assert r[key] == s[key], key


def _ids_by_outcome(results: list[dict[str, Any]], key: str, outcome: str) -> list[str]:
    return [item[key] for item in results if item["outcome"] == outcome]


def check_retention_pass(r: Any, s: dict[str, Any]) -> None:
    assert [r[k] for k in ("processed", "pruned", "skipped", "failed")] == [
        s[k] for k in ("processed", "pruned", "skipped", "failed")
    ]
    assert _ids_by_outcome(r["results"], "run_id", "pruned") == s["pruned_run_ids"]
    assert _ids_by_outcome(r["results"], "run_id", "skipped") == s["skipped_run_ids"]


def check_activity_timeout_pass(r: Any, s: dict[str, Any]) -> None:
    assert [r[k] for k in ("processed", "enforced", "skipped", "failed")] == [
        s[k] for k in ("processed", "enforced", "skipped", "failed")
    ]
    assert _ids_by_outcome(r["results"], "execution_id", "enforced") == s["enforced_execution_ids"]
    assert _ids_by_outcome(r["results"], "execution_id", "skipped") == s["skipped_execution_ids"]


def check_same_facts(r: Any, s: dict[str, Any]) -> None:
    for key in s.keys() - {"namespace"}:
        assert r[key] == s[key], key


def check_schedule_create(r: Any, s: dict[str, Any]) -> None:
    assert r.schedule_id == s["schedule_id"]


def check_schedule_list(r: Any, s: dict[str, Any]) -> None:
    assert [x.schedule_id for x in r] == s["schedule_ids"]
    assert [x.workflow_type for x in r] == s["workflow_types"]
    assert {x.schedule_id: x.status for x in r} == s["statuses"]
    assert r.next_page_token == s["next_page_token"]
    assert r.namespace == s["namespace"]


def check_schedule_describe(r: Any, s: dict[str, Any]) -> None:
    assert (r.schedule_id, r.workflow_type, r.task_queue, r.status) == (
        s["schedule_id"],
        s["workflow_type"],
        s["task_queue"],
        s["status"],
    )
    assert (r.overlap_policy, r.fires_count, r.remaining_actions) == (
        s["overlap_policy"],
        s["fires_count"],
        s["remaining_actions"],
    )


def check_schedule_trigger(r: Any, s: dict[str, Any]) -> None:
    assert (r.schedule_id, r.outcome, r.workflow_id, r.run_id) == (
        s["schedule_id"],
        s["outcome"],
        s["workflow_id"],
        s["run_id"],
    )


def check_schedule_backfill(r: Any, s: dict[str, Any]) -> None:
    assert (r.schedule_id, r.outcome, r.fires_attempted) == (
        s["schedule_id"],
        s["outcome"],
        s["fires_attempted"],
    )
    assert [f.outcome for f in r.results] == ["triggered", "buffered"]


def check_schedule_history(r: Any, s: dict[str, Any]) -> None:
    assert [e.event_type for e in r.events] == s["event_types"]
    assert [e.sequence for e in r.events] == s["sequences"]
    for sequence, refs in s["workflow_refs"].items():
        event = next(e for e in r.events if e.sequence == int(sequence))
        assert (event.workflow_instance_id, event.workflow_run_id) == (
            refs["workflow_instance_id"],
            refs["workflow_run_id"],
        )
    assert (r.has_more, r.next_cursor, r.namespace) == (s["has_more"], s["next_cursor"], s["namespace"])


SEMANTIC_CHECKS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "task_queue.list": check_task_queue_list,
    "task_queue.describe": check_task_queue_describe,
    "task_queue.build_ids": check_build_ids,
    "task_queue.build_id.drain": check_build_id_state,
    "task_queue.build_id.resume": check_build_id_state,
    "task_queue.build_id.promote": check_build_id_state,
    "worker.list": check_worker_list,
    "worker.describe": check_worker_describe,
    "worker.deregister": check_worker_deregister,
    "workflow.list": check_list,
    "workflow.list_runs": check_list_runs,
    "workflow.describe": check_describe,
    "workflow.show_run": check_show_run,
    "workflow.history_export": check_export,
    "workflow.start": check_start,
    "workflow-task.poll": check_task_poll,
    "workflow-task.history": check_task_history,
    "query-task.poll": check_query_poll,
    "worker.register": check_register,
    "namespace.create": check_namespace,
    "namespace.describe": check_namespace,
    "namespace.update": check_namespace,
    "namespace.list": check_namespace_list,
    "namespace.delete": check_namespace_delete,
    "namespace.set_storage_driver": check_namespace_storage,
    "storage.test": check_storage_test,
    # ---- issue 8: system maintenance
    "system.repair.status": check_repair_status,
    "system.repair.pass": check_repair_pass,
    "system.retention.status": check_same_facts,
    "system.retention.pass": check_retention_pass,
    "system.activity_timeout.status": check_same_facts,
    "system.activity_timeout.pass": check_activity_timeout_pass,
    "schedule.create": check_schedule_create,
    "schedule.list": check_schedule_list,
    "schedule.describe": check_schedule_describe,
    "schedule.trigger": check_schedule_trigger,
    "schedule.backfill": check_schedule_backfill,
    "schedule.history": check_schedule_history,
}


@pytest.mark.parametrize("operation", sorted(SEMANTIC_CHECKS))
async def test_sdk_surfaces_response_facts(operation: str) -> None:
    fixture = next(f for f in IMPLEMENTED_FIXTURES if f["operation"] == operation)
    _, result = await call(fixture)
    SEMANTIC_CHECKS[operation](result, fixture["semantic_body"])
