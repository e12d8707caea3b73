"""The namespace pages: the namespaces a credential may see, one with its storage policy, and
no secret of a policy on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import Client
from durable_workflow_server.settings import parse_namespace_tokens
from durable_workflow_server.ui.pages.namespaces import HIDDEN, redacted
from tests.helpers.e2e_env import TOKEN
from tests.helpers.ui import sign_in

BILLING_TOKEN = "ui-ns-billing-token"


@pytest.fixture
def ui_settings_overrides() -> dict[str, Any]:
    return {
        "auth_token": None,
        "admin_token": TOKEN,
        "namespace_tokens": parse_namespace_tokens(f"billing:operator:{BILLING_TOKEN}"),
    }


@pytest.fixture
async def client(sdk: Client, tmp_path: Path) -> Client:
    await sdk.create_namespace("billing", description="Invoices", retention_days=7)
    await sdk.set_namespace_external_storage(
        "billing", driver="local", threshold_bytes=1024, config={"uri": f"file://{tmp_path}/blobs"}
    )
    return sdk


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
