"""The namespace pages: the namespaces a credential may see, one with its storage policy, and
no secret of a policy on the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import Client
from durable_workflow_server.settings import parse_namespace_tokens
from durable_workflow_server.ui.pages.namespaces import HIDDEN, redacted
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app, sdk_client
from tests.ui.test_ui_pages import sign_in

BILLING_TOKEN = "ui-ns-billing-token"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    settings = e2e_settings(
        f"sqlite:///{tmp_path / 'ui.sqlite3'}",
        auth_token=None,
        admin_token=TOKEN,
        namespace_tokens=parse_namespace_tokens(f"billing:operator:{BILLING_TOKEN}"),
    )
    async with running_app(settings) as started:
        yield started


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


@pytest.fixture
async def client(app: Any, tmp_path: Path) -> AsyncIterator[Client]:
    async with sdk_client(app) as sdk:
        await sdk.create_namespace("billing", description="Invoices", retention_days=7)
        await sdk.set_namespace_external_storage(
            "billing", driver="local", threshold_bytes=1024, config={"uri": f"file://{tmp_path}/blobs"}
        )
        yield sdk


async def test_the_list_and_a_namespace_with_its_storage_policy(
    client: Client, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser)
    listed = (await browser.get("/namespaces")).text
    assert "billing" in listed and "Invoices" in listed and "default" in listed
    page = await browser.get("/namespace?name=billing&namespace=billing")
    assert page.status_code == 200 and "7 days" in page.text
    assert "&#34;driver&#34;: &#34;local&#34;" in page.text and "1024" in page.text


async def test_a_bound_token_sees_only_its_namespaces(client: Client, browser: httpx.AsyncClient) -> None:
    await sign_in(browser, token=BILLING_TOKEN)
    listed = (await browser.get("/namespaces")).text
    assert "billing" in listed and "/namespace?name=default" not in listed
    assert (await browser.get("/namespace?name=default")).status_code == 403


def test_secret_looking_values_of_a_policy_are_never_shown() -> None:
    policy = {
        "driver": "s3",
        "config": {"bucket": "b", "secret_access_key": "S3CRET", "nested": {"session_token": "T0K"}},
    }
    shown = redacted(policy)
    assert shown == {
        "driver": "s3",
        "config": {"bucket": "b", "secret_access_key": HIDDEN, "nested": {"session_token": HIDDEN}},
    }
