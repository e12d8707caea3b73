"""Connection settings, profiles, the preflight, the command surface and the renderer's colours.

The CLI runs against a recording transport put under its SDK client through ``Runtime``.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow_cli.cli import rewrite_grouped
from durable_workflow_cli.compat import satisfies
from durable_workflow_cli.runtime import Runtime
from tests.helpers.cli import Recorder, compatible_cluster_info, invoke, one_document, validate_output

LIST_ANSWER = {"workflows": [{"workflow_id": "wf-1", "workflow_type": "t", "status": "running"}]}


def recorder(body: dict[str, Any] | None = None) -> Recorder:
    return Recorder(
        lambda request: httpx.Response(
            200, json=body or LIST_ANSWER, headers={"X-Durable-Workflow-Control-Plane-Version": "2"}
        )
    )


def sent(rec: Recorder) -> httpx.Request:
    assert len(rec.requests) == 1
    return rec.requests[0]


def test_defaults(tmp_path: Path) -> None:
    rec = recorder()
    assert invoke(["workflow:list"], transport=rec.transport(), config_home=tmp_path).exit_code == 0
    request = sent(rec)
    assert str(request.url).startswith("http://localhost:8080/api/workflows")
    assert request.headers["X-Namespace"] == "default" and "Authorization" not in request.headers
    assert request.url.params["page_size"] == "20"


def test_flag_beats_environment_beats_profile(tmp_path: Path) -> None:
    profile = ["--server=http://profile:1", "--namespace=from-profile", "--token=profile-token"]
    assert invoke(["env:set", "dev", *profile, "--make-default"], config_home=tmp_path).exit_code == 0
    rec = recorder()
    invoke(["workflow:list"], transport=rec.transport(), config_home=tmp_path)
    request = sent(rec)
    assert request.url.host == "profile" and request.headers["X-Namespace"] == "from-profile"
    assert request.headers["Authorization"] == "Bearer profile-token"

    env = {"DURABLE_WORKFLOW_NAMESPACE": "from-env", "DURABLE_WORKFLOW_AUTH_TOKEN": "env-token"}
    rec = recorder()
    invoke(["workflow:list"], transport=rec.transport(), config_home=tmp_path, env=env)
    assert sent(rec).headers["X-Namespace"] == "from-env"
    assert sent(rec).headers["Authorization"] == "Bearer env-token"

    rec = recorder()
    invoke(["--namespace=before", "workflow:list", "--namespace=after"], transport=rec.transport(),
           config_home=tmp_path, env=env)  # fmt: skip
    assert sent(rec).headers["X-Namespace"] == "after"
    rec = recorder()
    invoke(["--namespace=before", "workflow:list"], transport=rec.transport(), config_home=tmp_path, env=env)
    assert sent(rec).headers["X-Namespace"] == "before"


def test_token_from_a_named_variable_and_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    invoke(["env:set", "prod", "--token-env=PROD_TOKEN", "--namespace=p"], config_home=tmp_path)
    rec = recorder()
    env = {"DW_ENV": "prod", "PROD_TOKEN": "secret", "DURABLE_WORKFLOW_NAMESPACE": ""}
    invoke(["workflow:list"], transport=rec.transport(), config_home=tmp_path, env=env)
    assert sent(rec).headers["Authorization"] == "Bearer secret"
    assert sent(rec).headers["X-Namespace"] == "p"


def test_unknown_profile_is_exit_2_listing_the_known_ones(tmp_path: Path) -> None:
    invoke(["env:set", "dev", "--server=http://x"], config_home=tmp_path)
    rec = recorder()
    result = invoke(["workflow:list", "--env=nope"], transport=rec.transport(), config_home=tmp_path)
    assert result.exit_code == 2 and "known: dev" in result.stderr
    result = invoke(
        ["workflow:list", "--json"], transport=rec.transport(), config_home=tmp_path, env={"DW_ENV": "x"}
    )
    assert result.exit_code == 2 and one_document(result)["exit_code"] == 2
    assert rec.requests == []


def test_bad_output_and_tls_values_exit_2(tmp_path: Path) -> None:
    assert invoke(["workflow:list", "--output=yaml"], config_home=tmp_path).exit_code == 2
    result = invoke(["workflow:list", "--tls-verify=maybe"], config_home=tmp_path)
    assert result.exit_code == 2 and "--tls-verify" in result.stderr


def test_profile_commands_and_the_file(tmp_path: Path) -> None:
    result = invoke(
        ["env:set", "dev", "--server=http://dev:8080/", "--token=s3cret", "--json"], config_home=tmp_path
    )
    described = one_document(result)
    validate_output(described, "env:set")
    assert described["server"] == "http://dev:8080"
    assert described["token_source"] == {"type": "literal", "value": "redacted"}
    path = tmp_path / "config.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    document = json.loads(path.read_text())
    assert (
        document["schema"] == "durable-workflow.cli.config" and document["envs"]["dev"]["tls_verify"] is True
    )

    used = one_document(invoke(["env:use", "dev", "--json"], config_home=tmp_path))
    validate_output(used, "env:use")
    assert used["current"] is True

    listed = one_document(invoke(["env:list", "--json", "--show-token"], config_home=tmp_path))
    validate_output(listed, "env:list")
    assert listed["current_env"] == "dev" and listed["envs"][0]["token_source"]["value"] == "s3cret"
    human = invoke(["env:list"], config_home=tmp_path)
    assert "*" in human.stdout and "dev" in human.stdout and "s3cret" not in human.stdout

    deleted = one_document(invoke(["env:delete", "dev", "--json"], config_home=tmp_path))
    validate_output(deleted, "env:delete")
    assert deleted["cleared_current_env"] is True
    assert json.loads(path.read_text())["current_env"] is None
    assert invoke(["env:set", "bad name"], config_home=tmp_path).exit_code == 2


def test_preflight_refuses_an_incompatible_server_with_exit_8(tmp_path: Path) -> None:
    rec = recorder()
    rec.cluster_info = compatible_cluster_info(
        client_compatibility={"clients": {"cli": {"supported_versions": ">=2.0"}}}
    )
    result = invoke(["workflow:list", "--json"], transport=rec.transport(), config_home=tmp_path)
    assert result.exit_code == 8
    error = one_document(result)
    assert error["compatibility"]["compatibility_window"] == ">=2.0"
    assert rec.requests == []
    rec.cluster_info = compatible_cluster_info(control_plane={"version": "1"})
    assert invoke(["workflow:list"], transport=rec.transport(), config_home=tmp_path).exit_code == 8


@pytest.mark.parametrize(
    ("version", "constraint", "ok"),
    [("0.1.0", ">=0.1,<1.0", True), ("1.0.0", ">=0.1,<1.0", False), ("2.3.0", "^1.0 || ^2.1", True),
     ("2.0.0-rc.35", ">=2.0.0", True), ("0.3.1", "~0.3", True), ("0.4.0", "~0.3.0", False)],
)  # fmt: skip
def test_version_constraints(version: str, constraint: str, ok: bool) -> None:
    assert satisfies(version, constraint) is ok


def test_surface_listing_aliases_and_grouped_syntax(tmp_path: Path) -> None:
    listing = invoke([], config_home=tmp_path)
    assert listing.exit_code == 0
    assert listing.stdout.index("Workflows:") < listing.stdout.index("Profiles:")
    rec = recorder()
    assert (
        invoke(["workflows:list", "--json"], transport=rec.transport(), config_home=tmp_path).exit_code == 0
    )
    assert invoke(["update"], config_home=tmp_path).exit_code == 2
    assert invoke(["workflow:nope"], config_home=tmp_path).exit_code == 2
    assert rewrite_grouped(["--env", "prod", "schedules", "create", "--id=x"]) == [
        "schedule:create", "--env", "prod", "--id=x"
    ]  # fmt: skip
    assert rewrite_grouped(["workflow", "list", "--json"]) == ["workflow:list", "--json"]
    assert rewrite_grouped(["workflow:list", "list"]) == ["workflow:list", "list"]
    rec = recorder()
    assert invoke(["workflows", "list"], transport=rec.transport(), config_home=tmp_path).exit_code == 0
    for name in ("workflow:start", "workflow:describe", "env:set", "server:health"):
        assert "Example:" in invoke([name, "--help"], config_home=tmp_path).stdout


def test_colours_only_when_asked_and_never_with_no_color(tmp_path: Path) -> None:
    rec = recorder()
    plain = invoke(["workflow:list"], transport=rec.transport(), config_home=tmp_path)
    assert "\x1b[" not in plain.stdout and "running" in plain.stdout
    coloured = invoke(
        ["workflow:list"], runtime=Runtime(color=True), transport=rec.transport(), config_home=tmp_path
    )
    assert "\x1b[" in coloured.stdout
    # A terminal decides colour, and NO_COLOR vetoes it (Runtime.color=None means "decide").
    no_color = invoke(
        ["workflow:list"],
        runtime=Runtime(),
        transport=rec.transport(),
        config_home=tmp_path,
        env={"NO_COLOR": "1"},
    )
    assert "\x1b[" not in no_color.stdout
