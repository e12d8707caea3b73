"""The web UI over the real app and a real SQLite file: sign-in, roles, namespaces, CSRF, the list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from durable_workflow import Client
from durable_workflow_server.settings import parse_namespace_tokens
from durable_workflow_server.ui.pages import workflows as workflows_page
from tests.helpers.e2e_env import TOKEN, sdk_client
from tests.helpers.ui import csrf_of, sign_in

WORKER_TOKEN, OPERATOR_TOKEN, BILLING_TOKEN = "ui-worker-token", "ui-operator-token", "ui-billing-token"


@pytest.fixture
def ui_settings_overrides() -> dict[str, Any]:
    return dict(
        auth_token=None,
        admin_token=TOKEN,
        operator_token=OPERATOR_TOKEN,
        worker_token=WORKER_TOKEN,
        namespace_tokens=parse_namespace_tokens(f"billing:operator:{BILLING_TOKEN}"),
    )


async def test_a_page_without_a_session_redirects_to_the_login_page(browser: httpx.AsyncClient) -> None:
    for path in ("/workflows", "/workflows?status=failed"):
        answer = await browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=%2Fworkflows")
    assert (await browser.get("/")).headers["location"] == "/workflows"


async def test_signing_in_sets_an_http_only_same_site_cookie_and_opens_the_list(
    browser: httpx.AsyncClient,
) -> None:
    answer = await sign_in(browser)
    assert answer.status_code == 303 and answer.headers["location"] == "/workflows"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("dw_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = await browser.get("/workflows")
    assert page.status_code == 200 and "No workflows match." in page.text


async def test_a_wrong_token_or_a_worker_token_is_refused_and_sets_no_session(
    browser: httpx.AsyncClient,
) -> None:
    wrong = await sign_in(browser, token="not-a-token")
    assert wrong.status_code == 401 and "That token is not valid." in wrong.text
    worker = await sign_in(browser, token=WORKER_TOKEN)
    assert worker.status_code == 403 and "worker token may not use the UI" in worker.text
    assert "dw_session" not in browser.cookies
    assert (await browser.get("/workflows")).status_code == 303


async def test_a_login_without_its_csrf_token_is_refused(browser: httpx.AsyncClient) -> None:
    answer = await browser.post("/login", data={"token": TOKEN, "next": "/workflows"})
    assert answer.status_code == 403
    assert "dw_session" not in browser.cookies


async def test_next_never_leaves_the_site(browser: httpx.AsyncClient) -> None:
    answer = await sign_in(browser, next_path="//evil.example/x")
    assert answer.headers["location"] == "/workflows"


async def test_a_post_without_the_csrf_token_is_refused(browser: httpx.AsyncClient) -> None:
    await sign_in(browser)
    refused = await browser.post("/logout", data={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert (await browser.get("/workflows")).status_code == 200, "still signed in"
    page = await browser.get("/workflows")
    signed_out = await browser.post("/logout", data={"csrf": csrf_of(page.text)})
    assert signed_out.status_code == 303
    assert (await browser.get("/workflows")).status_code == 303


async def test_the_list_shows_and_filters_workflows(app: Any, browser: httpx.AsyncClient) -> None:
    client: Client = sdk_client(app)
    async with client:
        await client.start_workflow(
            workflow_type="Greeter", workflow_id="ui-greet-1", task_queue="ui-q", input=["a"]
        )
        await client.start_workflow(
            workflow_type="Billing", workflow_id="ui-bill-1", task_queue="ui-q", input=["b"]
        )
        await client.terminate_workflow("ui-bill-1", reason="test")
    await sign_in(browser)
    page = (await browser.get("/workflows")).text
    assert "ui-greet-1" in page and "ui-bill-1" in page and "2 matching" in page
    terminated = (await browser.get("/workflows?status=failed")).text
    assert "ui-bill-1" in terminated and "ui-greet-1" not in terminated
    by_type = (await browser.get("/workflows?type=Greeter")).text
    assert "ui-greet-1" in by_type and "ui-bill-1" not in by_type


async def test_an_unknown_or_forbidden_namespace_is_an_error_page(browser: httpx.AsyncClient) -> None:
    await sign_in(browser)
    answer = await browser.get("/workflows?namespace=nowhere")
    assert answer.status_code == 404 and "Namespace &#39;nowhere&#39; does not exist." in answer.text


async def test_a_bad_filter_is_the_engine_refusal_on_the_page(browser: httpx.AsyncClient) -> None:
    await sign_in(browser)
    answer = await browser.get("/workflows?query=Priority%20%3E%3D")
    assert answer.status_code == 422
    assert "validation_failed" in answer.text


async def test_static_assets_are_served(browser: httpx.AsyncClient) -> None:
    css = await browser.get("/static/ui.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text


async def test_a_namespace_bound_token_sees_only_its_namespace(app: Any, browser: httpx.AsyncClient) -> None:
    client: Client = sdk_client(app)
    async with client:
        await client.create_namespace("billing")
        await client.start_workflow(workflow_type="Secret", workflow_id="ui-default-secret", task_queue="q")
    async with sdk_client(app, namespace="billing") as billing:
        await billing.start_workflow(
            workflow_type="Invoice", workflow_id="ui-billing-invoice", task_queue="q"
        )
    await sign_in(browser, token=BILLING_TOKEN)
    landing = await browser.get("/workflows")
    assert landing.status_code == 200, "a bound token lands in its own namespace"
    assert "ui-billing-invoice" in landing.text and "ui-default-secret" not in landing.text
    refused = await browser.get("/workflows?namespace=default")
    assert refused.status_code == 403 and "ui-default-secret" not in refused.text
    await sign_in(browser, token=OPERATOR_TOKEN)
    assert "ui-default-secret" in (await browser.get("/workflows?namespace=default")).text
    assert "ui-billing-invoice" in (await browser.get("/workflows?namespace=billing")).text


async def test_counts_by_status_and_the_start_time_window(app: Any, browser: httpx.AsyncClient) -> None:
    async with sdk_client(app) as client:
        await client.start_workflow(workflow_type="Greeter", workflow_id="ui-count-1", task_queue="q")
        await client.start_workflow(workflow_type="Greeter", workflow_id="ui-count-2", task_queue="q")
        await client.terminate_workflow("ui-count-2", reason="test")
    await sign_in(browser)
    page = (await browser.get("/workflows")).text
    assert "running 1</a>" in page and "completed 0</a>" in page and "failed 1</a>" in page
    future = (await browser.get("/workflows?started_after=2999-01-01T00:00")).text
    assert "No workflows match." in future and "running 0</a>" in future
    past = (
        await browser.get("/workflows?started_after=2000-01-01T00:00&started_before=2999-01-01T00:00")
    ).text
    assert "ui-count-1" in past and "ui-count-2" in past
    bad = await browser.get("/workflows?started_after=yesterday")
    assert bad.status_code == 422 and "started after must be a date and time" in bad.text


async def test_counts_are_totals_of_one_grouped_count_and_closed_time_filters(
    app: Any, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with sdk_client(app) as client:
        for n in range(5):
            await client.start_workflow(workflow_type="Greeter", workflow_id=f"ui-total-{n}", task_queue="q")
        for n in (3, 4):
            await client.terminate_workflow(f"ui-total-{n}", reason="test")
    await sign_in(browser)
    engine = app.state.engine
    calls: list[str] = []
    for name in ("list_workflows", "count_workflows"):
        real = getattr(engine, name)

        async def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return await _real(*args, **kwargs)

        monkeypatch.setattr(engine, name, spy)
    page = (await browser.get("/workflows")).text
    assert calls == ["list_workflows", "count_workflows"], "the page and one grouped count"
    assert "5 matching" in page and "running 3</a>" in page and "failed 2</a>" in page
    assert "2 matching" in (await browser.get("/workflows?status=failed")).text
    closed = (await browser.get("/workflows?closed_after=2000-01-01T00:00")).text
    assert "ui-total-3" in closed and "ui-total-4" in closed and "ui-total-0" not in closed
    assert "2 matching" in closed and "running 0</a>" in closed
    before = (await browser.get("/workflows?closed_before=2000-01-01T00:00")).text
    assert "No workflows match." in before and "0 matching" in before
    bad = await browser.get("/workflows?closed_before=later")
    assert bad.status_code == 422 and "closed before must be a date and time" in bad.text
    monkeypatch.setattr(workflows_page, "COUNT_LIMIT", 2)  # the counts stop at 2 runs a status
    capped = (await browser.get("/workflows")).text
    assert "4+ matching" in capped and "running 2+</a>" in capped and "failed 2</a>" in capped
    assert "2+ matching" in (await browser.get("/workflows?status=running")).text


async def test_a_bad_namespace_is_not_remembered_and_a_foreign_choice_is_dropped(
    app: Any, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser)
    assert (await browser.get("/workflows?namespace=nowhere")).status_code == 404
    assert (await browser.get("/workflows?namespace=bad%00name")).status_code == 404
    assert (await browser.get("/workflows")).status_code == 200, "the unknown namespace was not remembered"
    async with sdk_client(app) as client:
        await client.create_namespace("billing")
    assert (await browser.get("/workflows?namespace=billing")).status_code == 200
    assert browser.cookies.get("dw_namespace") == "billing"
    browser.cookies.set("dw_namespace", "default")  # left by another sign-in on this browser
    await sign_in(browser, token=BILLING_TOKEN)
    landing = await browser.get("/workflows")
    assert landing.status_code == 200 and 'value="billing"' in landing.text
