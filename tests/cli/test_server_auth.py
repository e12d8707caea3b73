"""Auth that fails closed at startup: when ``dev-token`` exists, and when the server refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.datastructures import Headers

import durable_workflow_server
from durable_workflow_cli.cli import dw
from durable_workflow_server.http.errors import ApiError
from durable_workflow_server.http.guards import authenticate

# Every variable that configures a credential, emptied (an empty value counts as unset), so a
# test sees only what it sets, whatever the environment running the tests holds.
AUTH_VARIABLES = (
    "AUTH_DRIVER",
    "AUTH_TOKEN",
    "WORKER_TOKEN",
    "OPERATOR_TOKEN",
    "ADMIN_TOKEN",
    "NAMESPACE_TOKENS",
    "SIGNATURE_KEY",
    "WORKER_SIGNATURE_KEY",
    "OPERATOR_SIGNATURE_KEY",
    "ADMIN_SIGNATURE_KEY",
    "AUTH_BACKWARD_COMPATIBLE",
)
NO_AUTH = {f"{prefix}_{name}": "" for name in AUTH_VARIABLES for prefix in ("DW", "WORKFLOW_SERVER")}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace the real ``serve`` so commands return at once; records the settings it was given."""
    calls: list[Any] = []

    def fake_serve(settings: Any, host: str, port: int, announce: Any = None) -> None:
        calls.append(settings)

    monkeypatch.setattr(durable_workflow_server, "serve", fake_serve)
    return calls


def run(args: list[str], **env: str) -> Any:
    merged: dict[str, str | None] = {**NO_AUTH, **env}
    for name in env:
        if name.startswith("WORKFLOW_SERVER_"):  # a set DW_ twin (even empty) hides the legacy name
            merged["DW_" + name.removeprefix("WORKFLOW_SERVER_")] = None
    return CliRunner().invoke(dw, args, env=merged, catch_exceptions=False)


def is_accepted(settings: Any, token: str) -> bool:
    try:
        authenticate(Headers({"authorization": f"Bearer {token}"}), b"", settings)
    except ApiError as exc:
        assert exc.status == 401
        return False
    return True


def test_start_dev_with_nothing_configured_uses_dev_token(served: list[Any]) -> None:
    result = run(["server:start-dev", "--in-memory"])
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert settings.auth_token == "dev-token" and is_accepted(settings, "dev-token")
    assert "development token 'dev-token'" in result.output


@pytest.mark.parametrize(
    "env",
    [
        {"DW_WORKER_TOKEN": "w", "DW_OPERATOR_TOKEN": "o", "DW_ADMIN_TOKEN": "a"},
        {"DW_ADMIN_TOKEN": "a"},
        {"DW_NAMESPACE_TOKENS": "billing:admin:a"},
        {"WORKFLOW_SERVER_OPERATOR_TOKEN": "o"},  # the legacy spelling counts too
    ],
)
def test_start_dev_with_role_or_namespace_tokens_has_no_dev_token(
    served: list[Any], env: dict[str, str]
) -> None:
    # The finding of issue 10: the three role tokens without DW_AUTH_TOKEN left dev-token an admin.
    result = run(["server:start-dev", "--in-memory"], **env)
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert settings.auth_token is None
    assert not is_accepted(settings, "dev-token")
    assert "dev-token" not in result.output


def test_start_dev_keeps_an_explicit_none_driver(served: list[Any]) -> None:
    result = run(["server:start-dev", "--in-memory"], DW_AUTH_DRIVER="none")
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert settings.auth_driver_name == "none" and settings.auth_token is None
    assert "dev-token" not in result.output


def test_start_dev_signature_driver_gets_no_dev_token(served: list[Any]) -> None:
    result = run(["server:start-dev", "--in-memory"], DW_AUTH_DRIVER="signature", DW_SIGNATURE_KEY="k")
    assert result.exit_code == 0, result.output
    assert served[0].auth_token is None and served[0].auth_driver_name == "signature"


@pytest.mark.parametrize(
    ("command", "env", "words"),
    [
        (["server:start"], {}, "no auth configured"),
        (["server:start"], {"DW_AUTH_DRIVER": "ldap"}, "unknown auth driver 'ldap'"),
        (["server:start"], {"DW_AUTH_DRIVER": "signature"}, "the signature auth driver has no key"),
        (["server:start"], {"DW_AUTH_TOKEN": "x", "DW_AUTH_BACKWARD_COMPATIBLE": "0"}, "BACKWARD_COMPATIBLE"),
        # a signature key alone chooses the credentials, so no dev-token; the token driver then
        # has nothing to check
        (["server:start-dev", "--in-memory"], {"DW_SIGNATURE_KEY": "k"}, "no auth configured"),
        (["server:start-dev", "--in-memory"], {"DW_AUTH_DRIVER": "kerberos"}, "unknown auth driver"),
        (["server:start"], {"DW_NAMESPACE_TOKENS": "billing:root:secret-x"}, "DW_NAMESPACE_TOKENS entry 1"),
        (
            ["server:start"],
            {"DW_AUTH_TOKEN": "t", "DW_HEADER_READ_TIMEOUT": "soon"},
            "DW_HEADER_READ_TIMEOUT",
        ),
    ],
)
def test_a_configuration_that_cannot_serve_is_one_line_and_exit_1(
    served: list[Any], tmp_path: Path, command: list[str], env: dict[str, str], words: str
) -> None:
    result = run([*command, "--port", "0"], DW_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", **env)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.output
    assert "secret-x" not in result.output and "Traceback" not in result.output
    assert served == []


def test_start_serves_without_auth_only_when_the_none_driver_is_explicit(
    served: list[Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    result = run(["server:start", "--database", url], DW_AUTH_DRIVER="none")
    assert result.exit_code == 0, result.output
    assert served[0].auth_driver_name == "none"


def test_python_m_server_refuses_to_start_without_auth(tmp_path: Path) -> None:
    env = {**os.environ, **NO_AUTH, "DW_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "DW_PORT": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "durable_workflow_server"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: cannot start: no auth configured: set DW_AUTH_TOKEN (or DW_WORKER_TOKEN, DW_OPERATOR_TOKEN, "
        "DW_ADMIN_TOKEN, DW_NAMESPACE_TOKENS), or DW_AUTH_DRIVER=none to serve without authentication"
    ]
    assert not (tmp_path / "x.sqlite3").exists()  # refused before the database was touched


@pytest.mark.smoke
def test_a_real_dev_server_with_role_tokens_refuses_dev_token_and_loose_headers() -> None:
    import time

    import httpx

    from tests.helpers.server_process import DW, free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, **NO_AUTH, "DW_WORKER_TOKEN": "w", "DW_OPERATOR_TOKEN": "o", "DW_ADMIN_TOKEN": "a"}
    args = [str(DW), "server:start-dev", "--in-memory", "--port", str(port)]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/api/ready", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)

        def status(authorization: str) -> int:
            headers = {"Authorization": authorization, "X-Durable-Workflow-Control-Plane-Version": "2"}
            return httpx.get(f"{base}/api/workflows", headers=headers, timeout=5.0).status_code

        assert status("Bearer dev-token") == 401
        assert status("Bearer o") == 200 and status("bearer a") == 200
        assert status("XBearer o") == 401 and status("Basic x, Bearer o") == 401
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "dev-token" not in out
