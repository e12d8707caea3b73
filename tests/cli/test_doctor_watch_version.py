"""``dw doctor``, ``dw watch`` and ``dw --version``.

Doctor runs against the real in-process server (all checks pass; a missing namespace and a
refused token fail their rows) and an unreachable one. Watch polls a fake server whose describe
answers change from poll to poll; its sleep is injected (``Runtime.sleep``), so the polls are
counted, not timed, and Ctrl-C is played by a sleep that raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow_cli.runtime import Runtime
from tests.helpers.cli import (
    Recorder,
    ServerThread,
    compatible_cluster_info,
    invoke,
    one_document,
    server_thread,
)
from tests.helpers.e2e_env import TOKEN, e2e_settings

# ---------------------------------------------------------------------------- doctor


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    folder = tmp_path_factory.mktemp("doctor")
    with server_thread(e2e_settings(f"sqlite:///{folder / 'doctor.sqlite3'}")) as srv:
        yield srv


def doctor(srv: ServerThread, tmp_path: Path, *args: str, token: str | None = TOKEN) -> Any:
    given = [f"--token={token}"] if token else []
    return invoke(
        ["doctor", "--server=http://testserver", *given, *args],
        transport=srv.transport(),
        config_home=tmp_path,
        env={"DW_CLI_COMMIT": "abc1234", "DW_CLI_BUILD_DATE": "2026-12-01"},
    )


def rows(stdout: str) -> dict[str, str]:
    """``check name → result`` from the human table."""
    found = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("connection", "auth", "compatibility", "namespace"):
            found[words[0]] = words[1]
    return found


def test_doctor_passes_every_check_against_the_server(server: ServerThread, tmp_path: Path) -> None:
    human = doctor(server, tmp_path)
    assert human.exit_code == 0, human.output
    assert rows(human.stdout) == dict.fromkeys(("connection", "auth", "compatibility", "namespace"), "pass")
    assert "Server:" in human.stdout and "http://testserver (flag)" in human.stdout
    assert "Everything checked out." in human.stdout
    assert max(len(line.rstrip()) for line in human.stdout.splitlines()) <= 80

    document = one_document(doctor(server, tmp_path, "--output=json"))
    assert document["dw"]["commit"] == "abc1234" and document["dw"]["build_date"] == "2026-12-01"
    assert document["server"]["reachable"] is True and document["server"]["version"]
    assert document["connection"]["token"] == {
        "present": True,
        "source": "flag",
        "env": None,
        "profile": None,
    }
    effective = document["connection"]["effective_config"]
    assert effective["server_url"] == {
        "value": "http://testserver",
        "source": "flag",
        "contract_source": "flag",
    }
    assert effective["auth"]["value"] == "redacted" and effective["auth"]["type"] == "token"
    assert [r["id"] for r in document["recommendations"]] == ["doctor.clean"]
    assert "--json" not in doctor(server, tmp_path, "--help").stdout


def test_doctor_reports_a_missing_namespace_and_env_sources(server: ServerThread, tmp_path: Path) -> None:
    result = invoke(
        ["doctor", "--output=json"],
        transport=server.transport(),
        config_home=tmp_path,
        env={
            "DURABLE_WORKFLOW_SERVER_URL": "http://testserver",
            "DURABLE_WORKFLOW_AUTH_TOKEN": TOKEN,
            "DURABLE_WORKFLOW_NAMESPACE": "nowhere",
        },
    )
    assert result.exit_code == 0  # the server answered: doctor never refuses
    document = one_document(result)
    checks = {c["name"]: c for c in document["checks"]}
    assert (
        checks["namespace"]["status"] == "fail" and "nowhere does not exist" in checks["namespace"]["detail"]
    )
    assert document["connection"]["namespace"] == "nowhere"
    assert document["connection"]["effective_config"]["namespace"]["contract_source"] == "environment"
    assert "namespace.unavailable" in [r["id"] for r in document["recommendations"]]


def test_doctor_with_a_refused_token_exits_4(server: ServerThread, tmp_path: Path) -> None:
    result = doctor(server, tmp_path, token="wrong")
    assert result.exit_code == 4
    assert rows(result.stdout) == {
        "connection": "pass",
        "auth": "fail",
        "compatibility": "skip",
        "namespace": "skip",
    }
    assert "Traceback" not in result.output


def test_doctor_without_a_server_exits_3_with_a_full_report(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = invoke(["doctor", f"--server=http://127.0.0.1:{port}", "--output=json"], config_home=tmp_path)
    assert result.exit_code == 3
    document = one_document(result)
    assert document["server"]["reachable"] is False and document["server"]["error"]["exit_code"] == 3
    ids = [r["id"] for r in document["recommendations"]]
    assert ids[0] == "server.unreachable" and "auth.token_missing" in ids
    assert [c["status"] for c in document["checks"]] == ["fail", "skip", "skip", "skip"]


def test_doctor_fails_the_compatibility_row_of_an_incompatible_server(tmp_path: Path) -> None:
    rec = Recorder(
        lambda request: httpx.Response(200, json={"name": "default"}),
        cluster_info=compatible_cluster_info(control_plane={"version": "1"}),
    )
    result = invoke(["doctor", "--token=t"], transport=rec.transport(), config_home=tmp_path)
    assert result.exit_code == 0
    assert rows(result.stdout)["compatibility"] == "fail"
    assert "Try: dw server:info" in result.stdout


# ---------------------------------------------------------------------------- watch


def describe_answers(*bodies: dict[str, Any]) -> Recorder:
    """A server whose describe answers are ``bodies`` in turn (the last one repeats)."""
    served: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = bodies[min(len(served), len(bodies) - 1)]
        served.append(body)
        full = {
            "workflow_id": "wf-1",
            "run_id": "run-1",
            "workflow_type": "orders",
            "control_plane": {"schema": "durable-workflow.v2.control-plane-response", "version": 1},
            **body,
        }
        return httpx.Response(200, json=full, headers={"X-Durable-Workflow-Control-Plane-Version": "2"})

    return Recorder(answer)


RUNNING = {"status": "running", "status_bucket": "running", "wait_kind": "signal"}
COMPLETED = {
    "status": "completed",
    "status_bucket": "completed",
    "is_terminal": True,
    "closed_reason": "completed",
    "output": {"ok": True},
}
FAILED = {"status": "failed", "status_bucket": "failed", "is_terminal": True}


class CountingSleep:
    """The injected sleep: counts polls; optionally plays Ctrl-C at the ``interrupt_at``-th wait."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.calls: list[float] = []
        self.interrupt_at = interrupt_at

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.interrupt_at is not None and len(self.calls) >= self.interrupt_at:
            raise KeyboardInterrupt


def watch(rec: Recorder, tmp_path: Path, *args: str, sleep: CountingSleep, interactive: bool = False) -> Any:
    runtime = Runtime(sleep=sleep, interactive=interactive, width=80)
    return invoke(["watch", *args], transport=rec.transport(), runtime=runtime, config_home=tmp_path)


def test_watch_prints_changes_until_the_run_completes(tmp_path: Path) -> None:
    rec = describe_answers(RUNNING, RUNNING, COMPLETED)
    sleep = CountingSleep()
    result = watch(rec, tmp_path, "workflow", "wf-1", "--interval=5", sleep=sleep)
    assert result.exit_code == 0, result.output
    assert sleep.calls == [5, 5]
    lines = [line.split("] ", 1)[1] for line in result.stdout.splitlines()]
    assert lines[0] == "Watching wf-1 in namespace default"
    assert "status: running" in lines and "wait_kind: signal" in lines
    # The second poll changed nothing and printed nothing; the third printed only its changes.
    assert lines[-6:] == [
        "status: running -> completed",
        "status_bucket: running -> completed",
        "is_terminal: - -> true",
        "closed_reason: - -> completed",
        "wait_kind: signal -> -",
        'output: - -> {"ok":true}',
    ]
    assert len(lines) == 1 + 3 + 6
    assert [r.url.path for r in rec.requests] == ["/api/workflows/wf-1"] * 3


def test_watch_exits_1_when_the_run_closes_otherwise_and_7_at_max_polls(tmp_path: Path) -> None:
    failed = watch(describe_answers(RUNNING, FAILED), tmp_path, "workflow", "wf-1", sleep=CountingSleep())
    assert failed.exit_code == 1 and "status: running -> failed" in failed.stdout

    capped = watch(
        describe_answers(RUNNING),
        tmp_path,
        "workflow",
        "wf-1",
        "--max-polls=3",
        "-r",
        "run-1",
        sleep=CountingSleep(),
    )
    assert capped.exit_code == 7
    assert "Stopped after 3 polls; wf-1 is still running." in capped.stderr


def test_watch_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    sleep = CountingSleep(interrupt_at=2)
    result = watch(describe_answers(RUNNING), tmp_path, "workflow", "wf-1", sleep=sleep)
    assert result.exit_code == 0
    assert "Stopped watching." in result.stderr and "Traceback" not in result.output


def test_watch_live_view_redraws_on_a_terminal(tmp_path: Path) -> None:
    rec = describe_answers(RUNNING, COMPLETED)
    result = watch(rec, tmp_path, "workflow", "wf-1", sleep=CountingSleep(), interactive=True)
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout  # cursor movement: the view is redrawn in place
    assert "Status:" in result.stdout and "completed" in result.stdout and "poll 2" in result.stdout


def test_watch_workflows_lists_until_max_polls(tmp_path: Path) -> None:
    answers = [
        {"workflows": [{"workflow_id": "a", "status": "running"}]},
        {"workflows": [{"workflow_id": "a", "status": "running"}]},
        {
            "workflows": [
                {"workflow_id": "a", "status": "completed"},
                {"workflow_id": "b", "status": "running"},
            ]
        },
    ]
    served: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        served.append(1)
        body = {**answers[min(len(served), len(answers)) - 1], "next_page_token": None}
        return httpx.Response(200, json=body, headers={"X-Durable-Workflow-Control-Plane-Version": "2"})

    rec = Recorder(answer)
    result = watch(rec, tmp_path, "workflows", "--status=running", "--max-polls=3", sleep=CountingSleep())
    assert result.exit_code == 0, result.output
    blocks = [line for line in result.stdout.splitlines() if "workflows in default" in line]
    assert len(blocks) == 2  # the unchanged second poll printed nothing
    assert "  b  running" in result.stdout
    assert rec.requests[0].url.params["status"] == "running"


def test_watch_needs_workflow_or_workflows(tmp_path: Path) -> None:
    result = invoke(["watch", "schedule", "s-1"], config_home=tmp_path)
    assert result.exit_code == 2 and "watch takes 'workflow <id>' or 'workflows'" in result.stderr
    assert invoke(["watch", "workflow"], config_home=tmp_path).exit_code == 2


# ---------------------------------------------------------------------------- --version


def test_version_prints_the_build_identity(tmp_path: Path) -> None:
    env = {"DW_CLI_VERSION": "9.9.9", "DW_CLI_COMMIT": "abc1234", "DW_CLI_BUILD_DATE": "2026-12-01"}
    for flag in ("--version", "-V"):
        result = invoke([flag], config_home=tmp_path, env=env)
        assert result.exit_code == 0
        assert result.stdout == "dw 9.9.9 (commit abc1234, built 2026-12-01)\n"


def test_version_warns_once_about_an_incompatible_selected_server(tmp_path: Path) -> None:
    rec = Recorder(
        lambda request: httpx.Response(404),
        cluster_info=compatible_cluster_info(control_plane={"version": "1"}),
    )
    result = invoke(
        ["--server=http://elsewhere", "--version"], transport=rec.transport(), config_home=tmp_path
    )
    assert result.exit_code == 0 and result.stdout.startswith("dw ")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Compatibility warning:")]
    assert len(warnings) == 1 and warnings[0].endswith("Run `dw doctor` for details.")

    # No server named: no request at all.
    quiet = Recorder(lambda request: httpx.Response(404))
    assert invoke(["--version"], transport=quiet.transport(), config_home=tmp_path).stderr == ""
    assert quiet.preflights == 0


def test_version_of_an_unreachable_server_is_still_printed(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    result = invoke(
        ["--version", "--server=http://nowhere"], transport=httpx.MockTransport(refuse), config_home=tmp_path
    )
    assert result.exit_code == 0 and result.stdout.startswith("dw ")
    assert "Compatibility warning" not in result.stderr
