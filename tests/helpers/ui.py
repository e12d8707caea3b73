"""Helpers of the UI tests: signing in through the login form, reading a page's CSRF token."""

from __future__ import annotations

import re

import httpx

from tests.helpers.e2e_env import TOKEN


def csrf_of(page: str) -> str:
    """The CSRF token of the page's forms (every form carries it)."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "every form carries the CSRF token"
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, token: str = TOKEN, next_path: str = "/workflows"
) -> httpx.Response:
    """Open the login page and submit ``token`` through its form; the answer of the POST."""
    form = await http.get(f"/login?next={next_path}")
    assert form.status_code == 200
    return await http.post("/login", data={"csrf": csrf_of(form.text), "token": token, "next": next_path})
