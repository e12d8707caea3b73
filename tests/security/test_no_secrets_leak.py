"""No secret appears in any log line or any answer.

A server with every kind of secret configured: the role tokens and a namespace-bound token, S3
credentials bound to a storage disk (``DW_STORAGE_DISK_<DISK>_*``) that a namespace's policy
names, and, on PostgreSQL, a password in the database URL. Every served route is then called
with every kind of credential (refusals and successes, the storage test that builds the S3
client and fails to reach it, a start whose input is large enough to be offloaded), with every
logger at DEBUG; no secret is in a captured log line, an answer body or an answer header.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from durable_workflow_server.settings import parse_namespace_tokens
from tests.security.test_route_roles import CREDENTIALS, SERVED, TOKENS, _request

BOUND = "leak-bound-admin-token"
WRONG = "not-a-token-of-this-server"  # what the "wrong" credential sends
S3_KEY_ID, S3_SECRET, S3_SESSION = "AKIALEAKTESTKEYID", "leak-s3-secret-access-key", "leak-s3-session-token"
DB_PASSWORD = "leak-db-password"
DISK = "vault"


def _with_password(url: str) -> str:
    """PostgreSQL here trusts local connections, so a password in the URL is carried, not checked."""
    if not url.startswith("postgresql"):
        return url
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{DB_PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def test_no_secret_in_logs_or_answers(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stem = f"DW_STORAGE_DISK_{DISK.upper()}_"
    monkeypatch.setenv(stem + "ACCESS_KEY_ID", S3_KEY_ID)
    monkeypatch.setenv(stem + "SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.setenv(stem + "SESSION_TOKEN", S3_SESSION)
    monkeypatch.setenv(stem + "ENDPOINT", "http://127.0.0.1:9")  # nothing listens: every call fails
    monkeypatch.setenv(stem + "REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    secrets = [*TOKENS.values(), BOUND, WRONG, S3_SECRET, S3_SESSION]
    url = _with_password(db_url)
    if url != db_url:
        secrets.append(DB_PASSWORD)
    settings = Settings(
        database_url=url,
        **{f"{role}_token": token for role, token in TOKENS.items()},
        namespace_tokens=parse_namespace_tokens(f"tenant-a:admin:{BOUND}"),
        long_poll_timeout=0.05,
        timer_loop_interval=3600.0,
    )
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    admin = {"Authorization": f"Bearer {TOKENS['admin']}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30) as manager:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as http:

            async def call(**request: object) -> None:
                response = await http.request(**request)  # type: ignore[arg-type]
                answers.append(f"{response.status_code} {dict(response.headers)} {response.text}")

            await call(method="POST", url="/api/namespaces", json={"name": "tenant-a"}, headers=admin)
            policy = {
                "driver": "s3",
                "enabled": True,
                "threshold_bytes": 16,
                "config": {"disk": DISK, "bucket": "leak-bucket"},
            }
            await call(
                method="PUT", url="/api/namespaces/default/external-storage", json=policy, headers=admin
            )
            await call(method="POST", url="/api/storage/test", json={}, headers=admin)
            start = {"workflow_type": "t", "task_queue": "q", "input": ["x" * 64]}  # over the threshold
            await call(method="POST", url="/api/workflows", json=start, headers=admin)
            await call(method="GET", url="/api/namespaces/default", headers=admin)
            ids = {"workflow_id": "wf", "run_id": "r", "task_id": "t", "worker_id": "w"}
            for route in SERVED:
                for kind in CREDENTIALS:
                    await call(**_request(route, kind, ids))

    assert len(answers) > len(SERVED) * len(CREDENTIALS)
    statuses = {answer.split(" ", 1)[0] for answer in answers}
    assert {"200", "401", "403"} <= statuses, statuses  # successes and refusals both ran
    assert any("leak-bucket" in answer for answer in answers)  # the policy was stored and read
    # The S3 client was built and used: botocore logged its signing and sending at DEBUG (where
    # the session token used to appear, before the server's redaction filter).
    assert any(record.name == "botocore.auth" for record in caplog.records)
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}" for record in caplog.records
    )
    for secret in secrets:
        assert secret not in caplog.text, f"a log line holds {secret!r}"
        assert secret not in logged, f"a log record holds {secret!r}"
        leaking = [answer[:300] for answer in answers if secret in answer]
        assert leaking == [], f"an answer holds {secret!r}"
