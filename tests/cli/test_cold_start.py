"""Cold start: ``dw --help`` and a server-talking command load neither the server package nor its
dependencies (checked in a fresh interpreter), and ``--help`` does not even load rich."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

SERVER_SIDE = (
    "durable_workflow_server",
    "starlette",
    "sqlalchemy",
    "pydantic",
    "uvicorn",
    "alembic",
    "asyncpg",
)
PROBE = """
import json, sys
from durable_workflow_cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "DW_CONFIG_HOME": "/nonexistent"},
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def server_side(modules: object) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if m.split(".")[0] in SERVER_SIDE]


def test_help_loads_nothing_of_the_server_nor_rich() -> None:
    found = loaded("--help")
    assert found["code"] in (0, None)
    assert server_side(found["modules"]) == []
    assert not [m for m in found["modules"] if isinstance(m, str) and m.split(".")[0] == "rich"]  # type: ignore[union-attr]


@pytest.mark.parametrize("output", ["--output=table", "--json"])
def test_describe_loads_nothing_of_the_server(output: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = loaded("workflow:describe", "wf-1", f"--server=http://127.0.0.1:{port}", output)
    assert found["code"] == 3  # nothing listens there: the error path ran too
    assert server_side(found["modules"]) == []


def test_help_loads_neither_asyncio_nor_httpx_nor_the_sdk() -> None:
    """Each costs tens of milliseconds: only commands that call a server import them."""
    found = loaded("--help")
    modules = found["modules"]
    assert isinstance(modules, list)
    # ``httpx._main`` is listed as main.py's None entry (the import it blocks), not a module.
    heavy = [
        m
        for m in modules
        if m.split(".")[0] in ("asyncio", "httpx", "httpcore", "anyio") and m != "httpx._main"
    ]
    assert heavy == [] and [m for m in modules if m.startswith("durable_workflow.")] == []


def test_describe_skips_the_httpx_command_line_client() -> None:
    """httpx's own CLI (pygments, rich.syntax) is not loaded behind the SDK client."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = loaded("workflow:describe", "wf-1", f"--server=http://127.0.0.1:{port}")
    modules = found["modules"]
    assert isinstance(modules, list) and "httpx" in modules
    assert [m for m in modules if m.split(".")[0] == "pygments" or m == "rich.syntax"] == []


def test_describe_loads_neither_the_avro_codec_nor_the_results_of_other_nouns() -> None:
    """JSON payloads need no fastavro; a describe needs no schedule or task-queue result classes."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = loaded("workflow:describe", "wf-1", f"--server=http://127.0.0.1:{port}", "--json")
    modules = found["modules"]
    assert isinstance(modules, list) and "durable_workflow.client._client" in modules
    unneeded = (
        "fastavro",
        "durable_workflow.client._task_queue_results",
        "durable_workflow.client._schedule_results",
    )
    assert [m for m in modules if m.split(".")[0] == "fastavro" or m in unneeded] == []
