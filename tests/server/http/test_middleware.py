"""Guard order, statuses and envelopes of rejected requests."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from durable_workflow.protocol import versions
from durable_workflow_server import Settings
from durable_workflow_server.http.errors import ApiError
from durable_workflow_server.settings import AuthConfigError
from tests.helpers.http_helpers import TOKEN, FakeEngine, control_headers, worker_headers

START = {"workflow_type": "greeter", "workflow_id": "wf-1", "input": ["world"]}


def assert_rejected(response: httpx.Response, status: int, reason: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["reason"] == reason
    assert isinstance(body["message"], str) and body["message"]
    return body


def assert_nothing_written(engine: FakeEngine) -> None:
    assert engine.engine_calls == []


# ---------------------------------------------------------------------- payload limits


async def test_malformed_json_is_400_with_parser_message(client, fake_engine):
    response = await client.post("/api/workflows", content=b'{"workflow_type": ', headers=control_headers())
    body = assert_rejected(response, 400, "malformed_json")
    assert body["json_error"]
    assert response.headers[versions.CONTROL_PLANE_HEADER] == "2"
    assert body["control_plane"]["operation"] == "start"
    assert_nothing_written(fake_engine)
    assert fake_engine.called("namespace_exists") == []


async def test_oversized_body_is_413_with_limit_before_auth(make_client, fake_engine):
    client = await make_client(max_payload_bytes=200)
    payload = {"workflow_type": "x" * 500}
    response = await client.post("/api/workflows", json=payload, headers={"Content-Type": "application/json"})
    body = assert_rejected(response, 413, "payload_too_large")
    assert body["limit"] == 200
    assert_nothing_written(fake_engine)


async def test_oversized_chunked_body_without_content_length_is_413(make_client, fake_engine):
    client = await make_client(max_payload_bytes=100)

    async def chunks():
        for _ in range(10):
            yield b"[" + b"1," * 20 + b"1]"

    response = await client.post("/api/workflows", content=chunks(), headers=control_headers())
    assert_rejected(response, 413, "payload_too_large")
    assert_nothing_written(fake_engine)


async def test_non_json_media_type_is_415(client, fake_engine):
    headers = control_headers()
    headers["Content-Type"] = "text/plain"
    response = await client.post("/api/workflows", content=b"workflow_type=x", headers=headers)
    body = assert_rejected(response, 415, "unsupported_media_type")
    assert body["accepted_content_types"] == ["application/json", "application/*+json"]
    assert_nothing_written(fake_engine)


async def test_vendor_json_media_type_is_accepted(client, fake_engine):
    headers = control_headers()
    headers["Content-Type"] = "application/vnd.dw+json; charset=utf-8"
    response = await client.post("/api/workflows", json=START, headers=headers)
    assert response.status_code == 201
    assert fake_engine.engine_calls == ["start_workflow"]


# ---------------------------------------------------------------------- auth and roles


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_missing_or_unknown_token_is_401(client, fake_engine, token):
    response = await client.post("/api/workflows", json=START, headers=control_headers(token))
    assert_rejected(response, 401, "unauthorized")
    assert response.json()["control_plane"]["operation"] == "start"
    assert_nothing_written(fake_engine)


@pytest.mark.parametrize(
    "value",
    [
        f"Basic abc, Bearer {TOKEN}, other",  # a list of credentials: refused, not searched
        f"Basic abc, Bearer {TOKEN}",
        f"XBearer {TOKEN}",
        f"Bearer  {TOKEN}",  # two spaces
        f"Bearer {TOKEN} extra",
        f"Bearer {TOKEN},",
        f"Bearer\t{TOKEN}",
        f"Bearer{TOKEN}",
        "Bearer ",
        "Bearer",
        TOKEN,
    ],
)
async def test_authorization_header_is_parsed_strictly(client, fake_engine, value):
    # Was test_bearer_token_is_taken_after_the_last_bearer_and_cut_at_comma (200 for the first
    # value): issue 10 asks for exactly "Bearer <token>".
    response = await client.get("/api/workflows", headers=control_headers(None, Authorization=value))
    body = assert_rejected(response, 401, "unauthorized")
    assert TOKEN not in response.text
    assert body["control_plane"]["operation"] == "list"
    assert_nothing_written(fake_engine)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_bearer_scheme_is_case_insensitive(client, scheme):
    response = await client.get(
        "/api/workflows", headers=control_headers(None, Authorization=f"{scheme} {TOKEN}")
    )
    assert response.status_code == 200, response.text


async def test_two_authorization_headers_are_401(client, fake_engine):
    headers = [(name, value) for name, value in control_headers(None).items()]
    headers += [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")]
    response = await client.get("/api/workflows", headers=headers)
    body = assert_rejected(response, 401, "unauthorized")
    assert "more than one" in body["message"]
    assert_nothing_written(fake_engine)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"auth_token": None}, "no auth configured"),
        ({"auth_driver": "ldap"}, "unknown auth driver 'ldap'"),
        ({"auth_driver": "signature"}, "signature auth driver has no key"),
        ({"auth_token": "two words"}, "DW_AUTH_TOKEN holds whitespace"),
        ({"auth_token": None, "operator_token": "a,b"}, "DW_OPERATOR_TOKEN holds whitespace or a comma"),
        ({"auth_backward_compatible": False}, "DW_AUTH_BACKWARD_COMPATIBLE is off"),
    ],
)
async def test_an_auth_configuration_that_cannot_serve_is_refused_when_the_app_is_built(
    make_client, fake_engine, overrides, words
):
    # Were test_token_driver_without_any_token_is_500, test_unknown_driver_is_500 and
    # test_signature_driver_without_keys_is_500 (500 server_error on every request): issue 10
    # asks such a server not to start at all.
    with pytest.raises(AuthConfigError) as refused:
        await make_client(**overrides)
    message = str(refused.value)
    assert words in message and "\n" not in message
    assert "two words" not in message and "a,b" not in message  # never the secret itself


async def test_driver_none_needs_no_token(make_client, fake_engine):
    client = await make_client(auth_driver="none", auth_token=None)
    assert (await client.get("/api/workflows", headers=control_headers(None))).status_code == 200
    assert (
        await client.post("/api/worker/heartbeat", json={"worker_id": "w"}, headers=worker_headers(None))
    ).status_code == 200


async def test_worker_token_on_control_plane_is_403_with_roles(make_client, fake_engine):
    client = await make_client(worker_token="w-tok", operator_token="o-tok")
    response = await client.post("/api/workflows", json=START, headers=control_headers("w-tok"))
    body = assert_rejected(response, 403, "forbidden")
    assert body["role"] == "worker"
    assert body["allowed_roles"] == ["operator", "admin"]
    assert_nothing_written(fake_engine)


async def test_operator_token_on_worker_plane_is_403(make_client, fake_engine):
    client = await make_client(worker_token="w-tok", operator_token="o-tok")
    response = await client.post("/api/worker/register", json={}, headers=worker_headers("o-tok"))
    body = assert_rejected(response, 403, "forbidden")
    assert body["role"] == "operator" and body["allowed_roles"] == ["worker"]
    assert response.headers[versions.WORKER_PROTOCOL_HEADER] == "1.1"
    assert body["protocol_version"] == "1.1"
    assert_nothing_written(fake_engine)


async def test_legacy_token_has_full_access_only_without_role_tokens(make_client, fake_engine):
    legacy_only = await make_client()
    ok = await legacy_only.post("/api/worker/heartbeat", json={"worker_id": "w"}, headers=worker_headers())
    assert ok.status_code == 200
    with_roles = await make_client(worker_token="w-tok")
    denied = await with_roles.post("/api/worker/heartbeat", json={"worker_id": "w"}, headers=worker_headers())
    body = assert_rejected(denied, 403, "forbidden")
    assert body["role"] == "admin"
    allowed = await with_roles.get("/api/workflows", headers=control_headers())
    assert allowed.status_code == 200


async def test_backward_compat_off_ignores_legacy_token(make_client, fake_engine):
    client = await make_client(auth_backward_compatible=False, admin_token="adm")
    response = await client.get("/api/workflows", headers=control_headers(TOKEN))
    assert_rejected(response, 401, "unauthorized")
    assert (await client.get("/api/workflows", headers=control_headers("adm"))).status_code == 200


async def test_signature_driver_checks_hmac_of_raw_body(make_client, fake_engine):
    client = await make_client(auth_driver="signature", operator_signature_key="op-key")
    raw = json.dumps(START).encode()
    good = hmac.new(b"op-key", raw, hashlib.sha256).hexdigest()
    headers = control_headers(None, **{"X-Signature": good})
    assert (await client.post("/api/workflows", content=raw, headers=headers)).status_code == 201
    headers["X-Signature"] = hmac.new(b"other", raw, hashlib.sha256).hexdigest()
    assert_rejected(await client.post("/api/workflows", content=raw, headers=headers), 401, "unauthorized")
    del headers["X-Signature"]
    assert_rejected(await client.post("/api/workflows", content=raw, headers=headers), 401, "unauthorized")
    assert fake_engine.engine_calls == ["start_workflow"]


async def test_signature_driver_roles_follow_their_keys(make_client, fake_engine):
    client = await make_client(
        auth_driver="signature", worker_signature_key="w-key", operator_signature_key="op-key"
    )
    raw = json.dumps(START).encode()
    signed_by_worker = hmac.new(b"w-key", raw, hashlib.sha256).hexdigest()
    headers = control_headers(None, **{"X-Signature": signed_by_worker})
    body = assert_rejected(
        await client.post("/api/workflows", content=raw, headers=headers), 403, "forbidden"
    )
    assert body["role"] == "worker"
    assert fake_engine.engine_calls == []


async def test_signature_driver_legacy_key_from_the_environment(make_client, fake_engine):
    settings = Settings.from_env({"DW_AUTH_DRIVER": "signature", "DW_SIGNATURE_KEY": "legacy"})
    client = await make_client(auth_driver=settings.auth_driver, signature_key=settings.signature_key)
    raw = json.dumps(START).encode()
    headers = control_headers(None, **{"X-Signature": hmac.new(b"legacy", raw, hashlib.sha256).hexdigest()})
    assert (await client.post("/api/workflows", content=raw, headers=headers)).status_code == 201
    assert fake_engine.engine_calls == ["start_workflow"]


# ---------------------------------------------------------------------- version headers


async def test_missing_control_plane_version_is_400(client, fake_engine):
    headers = control_headers()
    del headers[versions.CONTROL_PLANE_HEADER]
    response = await client.post("/api/workflows", json=START, headers=headers)
    body = assert_rejected(response, 400, "missing_control_plane_version")
    assert body["supported_version"] == "2" and body["requested_version"] is None and body["remediation"]
    assert body["control_plane"]["reason"] == "missing_control_plane_version"
    assert_nothing_written(fake_engine)


async def test_unsupported_control_plane_version_is_400(client, fake_engine):
    response = await client.get(
        "/api/workflows", headers=control_headers(**{versions.CONTROL_PLANE_HEADER: "3"})
    )
    body = assert_rejected(response, 400, "unsupported_control_plane_version")
    assert body["requested_version"] == "3"
    assert_nothing_written(fake_engine)


async def test_control_plane_version_is_trimmed(client):
    response = await client.get(
        "/api/workflows", headers=control_headers(**{versions.CONTROL_PLANE_HEADER: " 2 "})
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "reason"),
    [(None, "missing_protocol_version"), ("2.0", "unsupported_protocol_version"),
     ("1.2", "unsupported_protocol_version"), ("one", "unsupported_protocol_version")],
)  # fmt: skip
async def test_bad_worker_protocol_header_is_400_with_envelope(client, fake_engine, value, reason):
    headers = worker_headers()
    if value is None:
        del headers[versions.WORKER_PROTOCOL_HEADER]
    else:
        headers[versions.WORKER_PROTOCOL_HEADER] = value
    response = await client.post(
        "/api/worker/register", json={"task_queue": "q", "runtime": "python"}, headers=headers
    )
    body = assert_rejected(response, 400, reason)
    assert body["supported_version"] == "1.1"
    assert body["requested_version"] == value
    assert body["protocol_version"] == "1.1" and "server_capabilities" in body
    assert response.headers[versions.WORKER_PROTOCOL_HEADER] == "1.1"
    assert versions.CONTROL_PLANE_HEADER not in response.headers
    assert_nothing_written(fake_engine)


@pytest.mark.parametrize("value", ["1.0", "1.1"])
async def test_worker_protocol_minor_range_is_accepted(client, value):
    headers = worker_headers(**{versions.WORKER_PROTOCOL_HEADER: value})
    response = await client.post("/api/worker/heartbeat", json={"worker_id": "w"}, headers=headers)
    assert response.status_code == 200


# ---------------------------------------------------------------------- namespace


async def test_unknown_namespace_is_404(client, fake_engine):
    response = await client.get("/api/workflows/wf-1", headers=control_headers(**{"X-Namespace": "Nope"}))
    body = assert_rejected(response, 404, "namespace_not_found")
    assert body["namespace"] == "nope" and body["remediation"]
    assert body["control_plane"]["operation"] == "describe"
    assert body["workflow_id"] == "wf-1"
    assert_nothing_written(fake_engine)


async def test_namespace_from_query_then_default_lower_cased(client, fake_engine):
    fake_engine.namespaces.add("billing")
    response = await client.get("/api/workflows?namespace=BILLING", headers=control_headers())
    assert response.status_code == 200
    assert fake_engine.called("list_workflows")[0][0][0] == "billing"
    await client.get("/api/workflows", headers=control_headers())
    assert fake_engine.called("list_workflows")[1][0][0] == "default"


async def test_unknown_namespace_on_worker_plane_is_404(client, fake_engine):
    response = await client.post(
        "/api/worker/heartbeat", json={"worker_id": "w"}, headers=worker_headers(**{"X-Namespace": "ghost"})
    )
    assert_rejected(response, 404, "namespace_not_found")
    assert response.json()["protocol_version"] == "1.1"
    assert_nothing_written(fake_engine)


# ---------------------------------------------------------------------- precedence (docs/protocol.md)


async def test_bad_token_beats_missing_version_and_unknown_namespace(client, fake_engine):
    headers = {"Authorization": "Bearer nope", "X-Namespace": "ghost"}
    response = await client.get("/api/workflows", headers=headers)
    assert_rejected(response, 401, "unauthorized")
    assert fake_engine.called("namespace_exists") == []


async def test_wrong_role_beats_version_and_namespace(make_client, fake_engine):
    client = await make_client(worker_token="w-tok")
    response = await client.get(
        "/api/workflows", headers={"Authorization": "Bearer w-tok", "X-Namespace": "ghost"}
    )
    assert_rejected(response, 403, "forbidden")
    assert fake_engine.called("namespace_exists") == []


async def test_bad_version_beats_unknown_namespace(client, fake_engine):
    headers = control_headers(**{versions.CONTROL_PLANE_HEADER: "1", "X-Namespace": "ghost"})
    response = await client.get("/api/workflows", headers=headers)
    assert_rejected(response, 400, "unsupported_control_plane_version")
    assert fake_engine.called("namespace_exists") == []


async def test_worker_version_beats_unknown_namespace(client, fake_engine):
    headers = worker_headers(**{versions.WORKER_PROTOCOL_HEADER: "9.9", "X-Namespace": "ghost"})
    response = await client.post("/api/worker/heartbeat", json={"worker_id": "w"}, headers=headers)
    assert_rejected(response, 400, "unsupported_protocol_version")


async def test_payload_limits_beat_auth(client, fake_engine):
    response = await client.post("/api/workflows", content=b"{", headers={"Content-Type": "application/json"})
    assert_rejected(response, 400, "malformed_json")


async def test_unknown_route_is_404_before_auth(client):
    response = await client.get("/api/nothing-here")
    assert_rejected(response, 404, "not_found")
    assert response.headers[versions.CONTROL_PLANE_HEADER] == "2"


async def test_wrong_method_is_405_before_auth(client):
    response = await client.delete("/api/workflows")
    assert_rejected(response, 405, "method_not_allowed")


async def test_unknown_worker_route_gets_worker_envelope(client):
    response = await client.post("/api/worker/nothing", json={})
    body = assert_rejected(response, 404, "not_found")
    assert body["protocol_version"] == "1.1"


# ---------------------------------------------------------------------- failures inside the app


async def test_unhandled_exception_is_500_server_error(client, fake_engine, caplog):
    fake_engine.errors["describe_workflow"] = RuntimeError("boom")
    response = await client.get("/api/workflows/wf-1", headers=control_headers())
    assert response.status_code == 500
    body = response.json()
    assert body["message"] == "Server Error" and body["reason"] == "server_error"
    assert "RuntimeError: boom" in caplog.text


async def test_large_responses_are_gzipped_when_accepted(client, fake_engine):
    fake_engine.results["describe_workflow"] = {"workflow_id": "wf-1", "memo": {"text": "x" * 5000}}
    response = await client.get("/api/workflows/wf-1", headers=control_headers(**{"Accept-Encoding": "gzip"}))
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["memo"]["text"] == "x" * 5000


async def test_compression_can_be_disabled(make_client, fake_engine):
    client = await make_client(compression_enabled=False)
    fake_engine.results["describe_workflow"] = {"workflow_id": "wf-1", "memo": {"text": "x" * 5000}}
    response = await client.get("/api/workflows/wf-1", headers=control_headers(**{"Accept-Encoding": "gzip"}))
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/api/workflows/wf-1/signal/go",
        "/api/workflows/wf-1/runs/r-1/signal/go",
        "/api/workflows/wf-1/pause",
        "/api/workflows/wf-1/resume",
    ],
)
async def test_a_worker_token_on_the_signal_and_pause_routes_is_403(make_client, fake_engine, path):
    client = await make_client(worker_token="w-tok", operator_token="o-tok")
    response = await client.post(path, json={}, headers=control_headers("w-tok"))
    body = assert_rejected(response, 403, "forbidden")
    assert body["allowed_roles"] == ["operator", "admin"]
    assert body["control_plane"]["operation"] in ("signal", "pause", "resume")
    missing = await client.post(path, json={}, headers=control_headers(None))
    assert_rejected(missing, 401, "unauthorized")
    assert_nothing_written(fake_engine)


async def test_a_body_cut_off_by_a_disconnect_reaches_nothing(fake_engine):
    # A connection closed mid-body (the client left, or the body read deadline passed) must not
    # hand the partial body on: here the part received is valid JSON on its own. Driven through
    # the app itself, so the path every API request takes is the one checked.
    from durable_workflow_server import create_app

    app = create_app(Settings(auth_token=TOKEN), engine=fake_engine)
    sent: list[dict] = []
    messages = [
        {"type": "http.request", "body": b"{}", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in control_headers().items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/workflows",
        "raw_path": b"/api/workflows",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    assert_nothing_written(fake_engine)
    assert sent == []


@pytest.mark.parametrize("given", ["w-tok", "adm", TOKEN, "ns-b", "nope", "w-to"])
def test_every_credential_is_compared_whatever_matches(monkeypatch, given):
    # Constant time: the token is compared with every configured credential (no early exit),
    # as equal-length digests, so neither the time nor the count tells which one matched.
    from starlette.datastructures import Headers

    from durable_workflow_server.http import guards
    from durable_workflow_server.settings import parse_namespace_tokens

    settings = Settings(
        auth_token=TOKEN,
        worker_token="w-tok",
        operator_token="o-tok",
        admin_token="adm",
        namespace_tokens=parse_namespace_tokens("billing:operator:ns-b,reports:worker:ns-r"),
    )
    compared: list[tuple[int, int]] = []
    real = guards.hmac.compare_digest

    def counting(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(guards.hmac, "compare_digest", counting)
    headers = Headers({"authorization": f"Bearer {given}"})
    try:
        guards.authenticate(headers, b"", settings)
    except ApiError as exc:
        assert exc.status == 401
    assert len(compared) == 6
    assert set(compared) == {(32, 32)}


def test_token_digests_are_worked_out_once_per_settings_and_follow_the_settings(monkeypatch):
    # The configured tokens' digests are kept for the settings they came from: hashed once, not
    # per request, and another settings object (another app in this process) gets its own.
    from starlette.datastructures import Headers

    from durable_workflow_server.http import guards
    from durable_workflow_server.settings import parse_namespace_tokens

    first = Settings(worker_token="w-one", operator_token="o-one")
    second = Settings(worker_token="w-two", namespace_tokens=parse_namespace_tokens("ns-a:operator:nt"))
    hashed: list[str] = []
    real = guards._digest

    def counting(text: str) -> bytes:
        hashed.append(text)
        return real(text)

    monkeypatch.setattr(guards, "_digest", counting)

    def role(token: str, settings: Settings) -> str | None:
        headers = Headers({"authorization": f"Bearer {token}"})
        return guards.authenticate(headers, b"", settings).role

    assert role("w-one", first) == "worker"
    configured = len(hashed) - 1  # every configured token, then the given one
    for _ in range(3):
        assert role("o-one", first) == "operator"
    assert len(hashed) == configured + 4  # later requests hash only what they were given
    assert role("w-two", second) == "worker"
    principal = guards.authenticate(Headers({"authorization": "Bearer nt"}), b"", second)
    assert principal.role == "operator" and principal.namespaces == frozenset({"ns-a"})
    with pytest.raises(ApiError) as refused:
        role("w-one", second)  # the first settings' token means nothing to the second
    assert refused.value.status == 401
    assert role("w-one", first) == "worker"


def test_namespace_comes_from_the_header_then_the_query_then_the_default():
    from starlette.datastructures import Headers

    from durable_workflow_server.http import guards

    settings = Settings(default_namespace="Main")

    def resolved(headers: dict[str, str], query: bytes) -> str:
        scope = {"type": "http", "query_string": query}
        scope[guards.STATE] = guards.RequestState(Headers(headers))
        return guards.resolve_namespace(scope, settings)

    assert resolved({versions.NAMESPACE_HEADER: " Billing "}, b"namespace=other") == "billing"
    assert resolved({versions.NAMESPACE_HEADER: "  "}, b"namespace=Other") == "other"
    assert resolved({}, b"namespace=%20") == "main"
    assert resolved({}, b"") == "main"
