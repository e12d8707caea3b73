"""An unknown path: outside ``/api`` it is the UI's 404 page (HTML, status 404), behind the login
redirect like every page for a ``GET``; under ``/api`` it keeps the API's JSON envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.e2e_env import e2e_settings, running_app
from tests.helpers.ui import sign_in


def is_html_404(answer: httpx.Response) -> bool:
    return answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


async def test_signed_out_a_get_goes_to_the_login_page_and_comes_back_to_the_404(
    browser: httpx.AsyncClient,
) -> None:
    answer = await browser.get("/no/such/page?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fno%2Fsuch%2Fpage%3Fx%3D1"
    landed = await sign_in(browser, next_path="/no/such/page")
    assert landed.headers["location"] == "/no/such/page"
    shown = await browser.get("/no/such/page")
    assert is_html_404(shown) and "There is no page at /no/such/page." in shown.text
    assert 'href="/workers"' in shown.text, "inside the layout, with the nav"
    assert shown.headers["cache-control"] == "no-store"


async def test_other_methods_and_missing_assets_are_the_404_page_at_once(browser: httpx.AsyncClient) -> None:
    posted = await browser.post("/no/such/form", data={"a": "b"})
    assert is_html_404(posted) and "There is no page at /no/such/form." in posted.text
    asset = await browser.get("/static/missing.css")
    assert is_html_404(asset)
    await sign_in(browser)
    assert is_html_404(await browser.get("/workflows/extra"))
    assert is_html_404(await browser.get("/apis")), "only /api and /api/... are the API's"


async def test_an_unknown_api_path_keeps_the_json_envelope(browser: httpx.AsyncClient) -> None:
    await sign_in(browser)  # a session changes nothing for the API
    for path in ("/api/nope", "/api"):
        answer = await browser.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/json", path
        assert answer.json()["reason"] == "not_found", path
    worker = await browser.post("/api/worker/nope", json={})
    assert worker.status_code == 404 and worker.json()["reason"] == "not_found"
    assert "protocol_version" in worker.json(), "the worker plane's envelope"


async def test_without_auth_an_unknown_path_is_the_404_page_directly(tmp_path: Path) -> None:
    settings: Any = e2e_settings(
        f"sqlite:///{tmp_path / 'open.sqlite3'}", auth_token=None, auth_driver="none"
    )
    async with running_app(settings) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            answer = await http.get("/nowhere")
            assert is_html_404(answer) and "There is no page at /nowhere." in answer.text


@pytest.mark.parametrize("path", ["/workflows", "/workers", "/schedules"])
async def test_known_pages_are_not_404s(browser: httpx.AsyncClient, path: str) -> None:
    await sign_in(browser)
    assert (await browser.get(path)).status_code == 200


async def test_a_form_action_opened_with_get_is_the_405_page(browser: httpx.AsyncClient) -> None:
    for path in ("/schedule/backfill", "/logout", "/worker/deregister"):
        answer = await browser.get(path)
        assert answer.status_code == 405 and answer.headers["content-type"].startswith("text/html"), path
        assert answer.headers["allow"] == "POST", path
        assert "it is where a form is sent" in answer.text, path
    api = await browser.post("/api/health")
    assert api.status_code == 405 and api.json()["reason"] == "method_not_allowed", "the API's envelope"
    metrics = await browser.post("/metrics")
    assert metrics.status_code == 405 and metrics.json()["reason"] == "method_not_allowed"
