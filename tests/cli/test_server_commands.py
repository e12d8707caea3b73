"""``dw server:start-dev`` / ``dw server:start``: option parsing, install hints and one real launch."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import durable_workflow_server
from durable_workflow_cli.cli import dw
from durable_workflow_cli.commands import server as server_commands
from durable_workflow_cli.main import main


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the real ``serve`` so commands return at once; records what it was given."""
    calls: list[dict[str, Any]] = []

    def fake_serve(settings: Any, host: str, port: int, announce: Any = None) -> None:
        calls.append({"settings": settings, "host": host, "port": port})
        if announce is not None:
            announce(f"http://{host}:{port}")

    monkeypatch.setattr(durable_workflow_server, "serve", fake_serve)
    return calls


def run(args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(dw, args, env=env, catch_exceptions=False)


def test_help_lists_server_commands() -> None:
    result = run(["--help"])
    assert result.exit_code == 0
    assert "server:start-dev" in result.output and "server:start" in result.output
    for option in ("--server", "--token", "--namespace", "--json"):
        assert option in result.output


def test_start_dev_help_shows_options() -> None:
    result = run(["server:start-dev", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db-file", "--in-memory"):
        assert option in result.output
    assert "127.0.0.1" in result.output and "8080" in result.output


def test_start_dev_defaults(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    result = run(["server:start-dev"], env={"XDG_DATA_HOME": str(tmp_path), "DW_AUTH_TOKEN": ""})
    assert result.exit_code == 0, result.output
    expected = tmp_path / "durable-workflow" / "dev.sqlite3"
    assert expected.parent.is_dir()
    (call,) = served
    assert call["host"] == "127.0.0.1" and call["port"] == 8080
    settings = call["settings"]
    assert settings.database_url == f"sqlite:///{expected.resolve()}"
    assert settings.auth_driver == "token" and settings.auth_token == "dev-token"
    assert "dev-token" in result.output
    assert f"http://127.0.0.1:8080 (database: {expected.resolve()})" in result.output


def test_start_dev_home_fallback(tmp_path: Path) -> None:
    path = server_commands.default_dev_database({"HOME": str(tmp_path)})
    assert path == tmp_path / ".local" / "share" / "durable-workflow" / "dev.sqlite3"


def test_start_dev_with_file_port_and_token(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    db = tmp_path / "nested" / "my.sqlite3"
    env = {"DW_AUTH_TOKEN": "secret", "DW_MAX_PAYLOAD_BYTES": "1234"}
    result = run(["server:start-dev", "--port", "9999", "--host", "0.0.0.0", "--db-file", str(db)], env=env)
    assert result.exit_code == 0, result.output
    (call,) = served
    assert call["port"] == 9999 and call["host"] == "0.0.0.0"
    assert call["settings"].auth_token == "secret"
    assert call["settings"].max_payload_bytes == 1234
    assert call["settings"].database_url == f"sqlite:///{db.resolve()}"
    assert db.parent.is_dir()
    assert "dev-token" not in result.output


def test_start_dev_in_memory(served: list[dict[str, Any]]) -> None:
    result = run(["server:start-dev", "--in-memory"])
    assert result.exit_code == 0, result.output
    assert served[0]["settings"].database_url == "sqlite:///:memory:"
    assert "in memory" in result.output


@pytest.mark.parametrize(
    "args",
    [["server:start-dev", "--in-memory", "--db-file", "x.sqlite3"], ["server:start-dev", "--port", "99999"],
     ["server:start-dev", "--port", "http"]],
)  # fmt: skip
def test_start_dev_rejects_bad_options(args: list[str], served: list[dict[str, Any]]) -> None:
    result = run(args)
    assert result.exit_code == 2
    assert served == []


def test_start_dev_db_file_in_an_uncreatable_directory_is_one_line(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    result = run(["server:start-dev", "--db-file", str(blocker / "sub" / "dev.sqlite3")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot create the directory of the database file")
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert served == []


def test_start_dev_on_a_taken_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["server:start-dev", "--in-memory", "--port", str(port)], env={"DW_AUTH_TOKEN": "t"})
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_start_dev_with_an_unusable_database_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "corrupt.sqlite3"
    db.write_bytes(b"this is not a database" * 500)
    result = CliRunner().invoke(
        dw, ["server:start-dev", "--db-file", str(db), "--port", "0"], env={"DW_AUTH_TOKEN": "t"}
    )
    assert result.exit_code == 1, result.output
    assert "Error: cannot open the database: " in result.output
    assert "file is not a database" in result.output
    assert "Traceback" not in result.output and "listening on" not in result.output


def test_start_requires_a_database(served: list[dict[str, Any]]) -> None:
    result = run(["server:start"], env={"DW_DATABASE_URL": ""})
    assert result.exit_code == 2
    assert "DW_DATABASE_URL" in result.output
    assert served == []


def test_start_with_database_option_and_env(served: list[dict[str, Any]], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/prod.sqlite3"
    # server:start needs a credential since issue 10 (see test_start_without_auth_refuses_to_start)
    token = {"DW_AUTH_TOKEN": "t"}
    assert run(["server:start", "--database", url, "--port", "8181"], env=token).exit_code == 0
    assert served[0]["settings"].database_url == url and served[0]["host"] == "0.0.0.0"
    result = run(["server:start"], env={**token, "DW_DATABASE_URL": "postgresql://dw:pw@db/dw"})
    assert result.exit_code == 0
    assert served[1]["settings"].database_url == "postgresql://dw:pw@db/dw"
    assert "pw@" not in result.output and "dw:***@db/dw" in result.output


def test_start_rejects_unknown_scheme(served: list[dict[str, Any]]) -> None:
    assert run(["server:start", "--database", "mysql://x"]).exit_code == 2
    assert served == []


def test_missing_server_extra_prints_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable_workflow_server", None)
    result = CliRunner().invoke(dw, ["server:start-dev", "--in-memory"])
    assert result.exit_code == 1
    assert "pip install 'durable-workflow[server]'" in result.output


def test_missing_cli_extra_prints_install_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "click", None)
    monkeypatch.delitem(sys.modules, "durable_workflow_cli.cli")
    with pytest.raises(SystemExit) as excinfo:
        main(["--help"])
    assert excinfo.value.code == 1
    assert "pip install 'durable-workflow[cli]'" in capsys.readouterr().err


# ---------------------------------------------------------------------- one real launch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.smoke
def test_start_dev_serves_until_terminated(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "dev.sqlite3"
    env = {**os.environ, "DW_AUTH_TOKEN": "smoke-token", "XDG_DATA_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "durable_workflow_cli.main",
            "server:start-dev",
            "--port",
            str(port),
            "--db-file",
            str(db),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                ready = httpx.get(f"{base}/api/ready", timeout=1.0)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        assert ready is not None and ready.status_code == 200, ready.text if ready else "never answered"
        assert ready.json()["status"] == "ready"
        health = httpx.get(f"{base}/api/health", timeout=5.0)
        assert health.status_code == 200 and health.json()["status"] == "serving"
        info = httpx.get(
            f"{base}/api/cluster/info", headers={"Authorization": "Bearer smoke-token"}, timeout=5.0
        )
        assert info.status_code == 200 and info.json()["worker_protocol"]["version"] == "1.1"
        assert "server" not in {key.lower() for key in health.headers}
        assert db.exists()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
    # A graceful stop exits 0 (issue 10): uvicorn's re-raised SIGTERM no longer kills the process.
    assert process.returncode == 0, out
    assert "Application shutdown complete" in out
    assert f"listening on http://127.0.0.1:{port}" in out
    assert f"UI: http://127.0.0.1:{port}/" in out  # the web UI, at the root of the same server
    assert str(db) in out
