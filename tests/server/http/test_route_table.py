"""The route table is one list: the protocol's paths, the app's routes and the OpenAPI document agree."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Match

from durable_workflow.protocol import routes
from durable_workflow_server import Settings, create_app
from durable_workflow_server.http.routing import PlaneRoutes, RoutePlan, ServedRoute
from durable_workflow_server.http.table import PLANES
from durable_workflow_server.ui import ui_routes
from tests.helpers.http_helpers import TOKEN, FakeEngine


def test_the_table_is_exactly_the_protocol_list() -> None:
    declared = [(op.method, op.path) for plane in PLANES for op in plane.operations]
    assert sorted(declared) == sorted(routes.ALL)
    assert len(set(declared)) == len(declared)


def test_the_app_serves_the_table_in_order() -> None:
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=FakeEngine())
    served = [
        # A signal/query/update name may hold slashes, so its route matches the rest of the path.
        (route.operation.method, route.path.replace("{name:path}", "{name}"))
        for group in app.routes
        if isinstance(group, PlaneRoutes)
        for route in group.routes
        if isinstance(route, ServedRoute) and route.operation.served
    ]
    table = [
        (op.method, routes.API_PREFIX + op.path) for plane in PLANES for op in plane.operations if op.served
    ]
    assert served == table
    # Beside the API's planes: the Prometheus endpoint, then the web UI (both outside /api and not
    # in the table), and nothing of the UI under /api.
    others = [getattr(r, "path", None) for r in app.routes if not isinstance(r, PlaneRoutes)]
    assert others == [
        "/metrics",
        *(getattr(r, "path", None) for r in ui_routes(app.state.settings, FakeEngine())),
    ]
    assert not any(str(path).startswith(routes.API_PREFIX) for path in others)


def test_operation_ids_are_unique() -> None:
    ids = [op.operation_id for plane in PLANES for op in plane.operations]
    assert len(set(ids)) == len(ids)


def test_the_server_app_does_not_load_fastapi() -> None:
    # The routes are plain Starlette; FastAPI is no longer a dependency of the server.
    code = "import sys, durable_workflow_server.app; print('fastapi' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, object] = response.json()
    return document


async def test_openapi_document_validates(openapi: dict[str, object]) -> None:
    validate(openapi)  # raises on any violation of the OpenAPI 3.1 schema
    assert openapi["openapi"] == "3.1.0"


async def test_every_served_route_is_described_with_its_request_schema(openapi: dict[str, object]) -> None:
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    components = openapi["components"]
    assert isinstance(components, dict)
    schemas = components["schemas"]
    for plane in PLANES:
        for op in plane.operations:
            path = routes.API_PREFIX + op.path
            if not op.served:
                assert op.method.lower() not in paths.get(path, {}), path
                continue
            item = paths[path][op.method.lower()]
            assert item["operationId"] == op.operation_id
            for status in op.responses:
                assert str(status) in item["responses"], (path, status)
            if op.body is not None:
                ref = item["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[-1]
                assert name == op.body.__name__
                assert set(schemas[name]["properties"]) == set(op.body.model_fields)
            if op.query is not None:
                query = {p["name"] for p in item["parameters"] if p["in"] == "query"}
                assert query == set(op.query.model_fields)
            for status in ("400", "404", "405", "413", "415", "500"):
                assert status in item["responses"], (path, status)
            if plane.roles is not None:
                assert {"401", "403"} <= set(item["responses"]), path
            if op.body is not None or op.query is not None or "{" in op.path:
                assert item["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ValidationError"
                )


async def test_required_fields_are_required_in_the_schema(openapi: dict[str, object]) -> None:
    schemas = openapi["components"]["schemas"]  # type: ignore[index]
    assert "workflow_type" in schemas["StartWorkflowBody"]["required"]
    assert set(schemas["RegisterWorkerBody"]["required"]) == {"task_queue", "runtime"}
    assert {"lease_owner", "workflow_task_attempt", "commands"} <= set(
        schemas["CompleteWorkflowTaskBody"]["required"]
    )
    assert "message" in schemas["ActivityFailure"]["required"]


async def test_error_schemas_describe_every_refusal_the_server_sends(openapi: dict[str, object]) -> None:
    # Found by the fuzz tier: a 422 that is not a field-validation failure (invalid_after_sequence,
    # external_storage_not_configured, a bridge adapter's rejection) carries no field map, and the
    # document required one of every 422.
    import jsonschema

    schemas = openapi["components"]["schemas"]  # type: ignore[index]
    resolver = {"components": {"schemas": schemas}}

    def valid(name: str, body: dict[str, object]) -> bool:
        schema = {**schemas[name], "components": resolver["components"]}
        return jsonschema.Draft202012Validator(schema).is_valid(body)

    other = {
        "message": "The after_sequence must be a non-negative integer.",
        "reason": "invalid_after_sequence",
    }
    fields = {"message": "m", "reason": "validation_failed", "errors": {"a": ["b"]}, "validation_errors": {}}
    assert valid("ValidationError", other)
    assert valid("ValidationError", fields)
    assert not valid("ValidationError", {"message": "m", "reason": "validation_failed"})
    assert not valid("Error", {"message": "no reason"})  # every refusal names its reason


async def test_every_authenticated_route_documents_the_default_refusal(openapi: dict[str, object]) -> None:
    # An engine refusal whose reason has no status of its own is a 409 on whatever route raised it.
    for path, item in openapi["paths"].items():  # type: ignore[attr-defined]
        for spec in item.values():
            if "security" in spec:
                assert "409" in spec["responses"], path


async def test_links_chain_start_describe_and_signal(openapi: dict[str, object]) -> None:
    paths = openapi["paths"]  # type: ignore[index]
    links = paths["/api/workflows"]["post"]["responses"]["201"]["links"]  # type: ignore[index]
    assert links["describe_workflow"]["parameters"] == {"workflow_id": "$response.body#/workflow_id"}
    assert links["signal_run"]["parameters"]["run_id"] == "$response.body#/run_id"
    ids = {spec["operationId"] for item in paths.values() for spec in item.values()}  # type: ignore[attr-defined]
    for item in paths.values():  # type: ignore[attr-defined]
        for spec in item.values():
            for answer in spec["responses"].values():
                for link in answer.get("links", {}).values():
                    assert link["operationId"] in ids


def _reference_match(group: PlaneRoutes, scope: dict[str, object]) -> tuple[object, object]:
    """Starlette's own rule over the plane's routes: the first full match, else the first partial."""
    partial = None
    for route in group.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return match, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def _concrete(path: str) -> list[str]:
    """Request paths for a route path: its parameters filled in (a slash inside a ``name`` too)."""
    filled = re.sub(r"\{name:path\}", "a/b", path)
    return [re.sub(r"\{[^}]+\}", value, filled) for value in ("x", "worker", "namespaces")]


def test_narrowed_matching_answers_as_starlettes_rule() -> None:
    """The plane routes try only the routes of the request's first segment: the same answers."""
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=FakeEngine())
    groups = [group for group in app.routes if isinstance(group, PlaneRoutes)]
    paths = {p for group in groups for route in group.routes for p in _concrete(route.path)}
    paths |= {"/api", "/api/", "/api/nope", "/api/worker", "/api/worker/nope", "/api/workflows/", "/x"}
    for path in sorted(paths):
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "BREW"):
            scope = {"type": "http", "path": path, "root_path": "", "method": method, "path_params": {}}
            for group in groups:
                match, child = group.matches(scope)
                expected, route = _reference_match(group, scope)
                assert match is expected, (path, method, group.plane.name)
                assert child.get("durable_workflow.route") is route, (path, method)


def test_a_worker_plane_request_tries_no_control_plane_path() -> None:
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=FakeEngine())
    control = next(g for g in app.routes if isinstance(g, PlaneRoutes) and g.plane.name == "control")
    full, partial = control.tried("POST", "worker")
    assert full == [] and partial == []
    full, partial = control.tried("GET", "workflows")
    assert full and all(route.path.startswith("/api/workflows") for route in full + partial)


def _router_pick(app_routes: list[object], scope: dict[str, object]) -> object:
    """The route Starlette's router hands a request to: the first full match, else None."""
    for route in app_routes:
        match, _ = route.matches(scope)  # type: ignore[attr-defined]
        if match is Match.FULL:
            return route.app if isinstance(route, ServedRoute) else route  # type: ignore[attr-defined]
    return None


def test_the_dispatcher_takes_exactly_the_requests_a_served_route_would_answer() -> None:
    """The API dispatcher (a dict lookup for literal paths, else the planes' matching) serves a
    request only when Starlette's router would give it a served route, and the same one."""
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=FakeEngine())
    api = app.api  # type: ignore[attr-defined]
    groups = [group for group in app.routes if isinstance(group, PlaneRoutes)]
    flat = [route for group in groups for route in group.routes] + [
        r for r in app.routes if not isinstance(r, PlaneRoutes)
    ]
    paths = {p for group in groups for route in group.routes for p in _concrete(route.path)}
    paths |= {"/api", "/api/", "/api/nope", "/api/worker", "/api/worker/heartbeat/", "/metrics", "/x"}
    assert api.literal, "the literal paths are looked up in one dict"
    for path in sorted(paths):
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            found = api.find(scope)
            picked = _router_pick(flat, scope)
            if found is None:
                assert not isinstance(picked, RoutePlan), (method, path)
            else:
                route, child = found
                assert route.app is picked, (method, path)
                assert child["durable_workflow.route"] is route
                assert child["path_params"] == route.matches(scope)[1]["path_params"]
