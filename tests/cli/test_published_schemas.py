"""The documents of the commands no other CLI test prints as JSON, against their schemas.

``server:health`` and ``server:info`` (and its alias ``cluster:info``) against the real server
in process; ``env:show`` and the ``env:list`` jsonl lines from a real profile file. Each is
checked against ``dw``'s own published schema and the contract's (``validate_output``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from durable_workflow_cli import schemas
from tests.helpers.cli import invoke, one_document, server_thread, validate_output, validate_published
from tests.helpers.e2e_env import TOKEN, e2e_settings


def test_server_documents_match_their_schemas(tmp_path: Path) -> None:
    with server_thread(e2e_settings(f"sqlite:///{tmp_path / 'info.sqlite3'}")) as srv:
        for command in ("server:health", "server:info", "cluster:info"):
            result = invoke(
                ["--server=http://testserver", f"--token={TOKEN}", command, "--output=json"],
                transport=srv.transport(),
                config_home=tmp_path,
            )
            assert result.exit_code == 0, result.output
            document = one_document(result)
            validate_output(document, command)
            assert document.get("status" if command == "server:health" else "server_id")


def test_profile_documents_match_their_schemas(tmp_path: Path) -> None:
    for args in (
        ["env:set", "dev", "--server=http://dev:8080", "--token=s3cret"],
        ["env:set", "prod", "--server=https://prod", "--token-env=PROD_DW_TOKEN", "--profile-output=jsonl"],
        ["env:use", "prod"],
    ):
        assert invoke(args, config_home=tmp_path).exit_code == 0
    for name, token in (
        ("dev", {"type": "literal", "value": "redacted"}),
        ("prod", {"type": "env", "env": "PROD_DW_TOKEN"}),
    ):
        shown = one_document(invoke(["env:show", name, "--json"], config_home=tmp_path))
        validate_output(shown, "env:show")
        assert shown["token_source"] == token
    lines = invoke(["env:list", "--output=jsonl"], config_home=tmp_path).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [record["name"] for record in records] == ["dev", "prod"]
    for record in records:
        validate_output(record, "env:list", jsonl=True)
    assert [(record["current"], record["output"]) for record in records] == [(False, None), (True, "jsonl")]


def test_the_shared_record_shapes_refuse_what_dw_never_prints() -> None:
    # A profile always says where its file is; a namespace document always names it; a poll
    # answer always has its task (null when none); a build-id rollout names its drain intent.
    refused = [
        ({"name": "dev", "tls_verify": True}, "env:show"),
        ({"namespace": "billing"}, "namespace:describe"),
        ({"protocol_version": "1.0"}, "workflow-task:poll"),
        (
            {
                "namespace": "d",
                "task_queue": "q",
                "build_id": "b",
                "drain_intent": "gone",
                "drained_at": None,
            },
            "task-queue:drain",
        ),
    ]
    for document, command in refused:
        with pytest.raises(AssertionError, match=schemas.outputs()[command][1].name):
            validate_published(document, command)
