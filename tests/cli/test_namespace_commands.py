"""``dw namespace:*``, ``dw storage:test`` and ``dw search-attribute:*`` against the real server.

The server runs in process on its own loop (``server_thread``); the CLI reaches it through its
one seam. Every ``--json`` document (and ``jsonl`` line) is checked against its published schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import ServerThread, one_document, server_thread, validate_output
from tests.helpers.cli import dw_json_on as dw_json
from tests.helpers.cli import dw_on as dw
from tests.helpers.e2e_env import e2e_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with server_thread(e2e_settings(f"sqlite:///{tmp_path / 'cli.sqlite3'}")) as srv:
        yield srv


def test_namespace_lifecycle(server: ServerThread, tmp_path: Path) -> None:
    created = dw_json(server, tmp_path, "namespace:create", "billing", "-d", "Billing workflows", "-r", "90")
    assert (created["name"], created["namespace"], created["retention_days"]) == ("billing", "billing", 90)
    assert created["description"] == "Billing workflows"

    described = dw_json(server, tmp_path, "namespace:describe", "billing")
    assert (described["namespace"], described["status"]) == ("billing", "active")

    updated = dw_json(server, tmp_path, "namespace:update", "billing", "--retention=120")
    assert (updated["retention_days"], updated["description"]) == (120, "Billing workflows")

    listed = dw_json(server, tmp_path, "namespace:list")
    assert [(n["name"], n["namespace"]) for n in listed["namespaces"]] == [
        ("default", "default"),
        ("billing", "billing"),
    ]
    lines = dw(server, tmp_path, "namespace:list", "--output=jsonl").stdout.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["default", "billing"]
    for line in lines:
        validate_output(json.loads(line), "namespace:list", jsonl=True)

    human = dw(server, tmp_path, "namespace:list")
    assert human.exit_code == 0
    assert "Retention (days)" in human.stdout and "billing" in human.stdout
    assert all(len(line) <= 80 for line in human.stdout.splitlines())

    deleted = dw_json(server, tmp_path, "namespace:delete", "billing")
    assert (deleted["status"], deleted["namespace"]) == ("deleted", "billing")
    assert set(deleted["deleted"]) >= {"workflow_runs", "workflow_schedules"}

    gone = dw(server, tmp_path, "namespace:describe", "billing")
    assert gone.exit_code == 5
    assert "Error:" in gone.stderr and "Traceback" not in gone.output


def test_namespace_human_views(server: ServerThread, tmp_path: Path) -> None:
    created = dw(server, tmp_path, "namespace:create", "ops", "--description=Operations")
    assert created.exit_code == 0, created.output
    assert created.stdout.splitlines()[0] == "Namespace created: ops"
    assert "30 days" in created.stdout

    updated = dw(server, tmp_path, "namespace:update", "ops", "-d", "Ops team")
    assert updated.stdout.splitlines()[0] == "Namespace updated: ops"
    assert "Ops team" in updated.stdout

    nothing = dw(server, tmp_path, "namespace:update", "ops")
    assert nothing.exit_code == 2
    assert "Nothing to update" in nothing.stderr


def test_external_storage_policy_and_round_trip(server: ServerThread, tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    assert dw(server, tmp_path, "namespace:create", "billing").exit_code == 0
    policy = dw_json(
        server, tmp_path, "namespace:set-storage-driver", "billing", "local",
        f"--uri={objects.as_uri()}", "--threshold-bytes=4096",
    )  # fmt: skip
    assert policy["namespace"] == "billing"
    assert policy["external_payload_storage"] == {
        "driver": "local",
        "enabled": True,
        "threshold_bytes": 4096,
        "config": {"uri": objects.as_uri()},
    }
    shown = dw_json(server, tmp_path, "namespace:describe", "billing")
    assert shown["external_payload_storage"]["threshold_bytes"] == 4096

    tested = dw_json(server, tmp_path, "storage:test", "--namespace=billing", "--large-bytes=65536")
    assert (tested["status"], tested["namespace"], tested["driver"]) == ("passed", "billing", "local")
    assert (tested["small_payload"]["bytes"], tested["large_payload"]["bytes"]) == (128, 65536)

    human = dw(server, tmp_path, "--namespace=billing", "storage:test", "--small-bytes=64")
    assert human.exit_code == 0, human.output
    assert human.stdout.splitlines()[0] == "External storage test: passed"
    assert "bytes=64" in human.stdout and "bytes=2097152" in human.stdout

    disabled = dw(server, tmp_path, "namespace:set-storage-driver", "billing", "local", "--disable")
    assert disabled.exit_code == 0, disabled.output
    assert ["Enabled:", "no"] in [line.split() for line in disabled.stdout.splitlines()]
    refused = dw(server, tmp_path, "storage:test", "--namespace=billing")
    assert refused.exit_code == 2
    assert "Reason: external_storage_disabled" in refused.stderr


def test_storage_options_are_checked_before_any_request(server: ServerThread, tmp_path: Path) -> None:
    bad_driver = dw(server, tmp_path, "namespace:set-storage-driver", "billing", "ftp", "--json")
    assert bad_driver.exit_code == 2
    assert one_document(bad_driver)["command"] == "namespace:set-storage-driver"
    assert "local, s3, gcs, azure" in one_document(bad_driver)["error"]
    assert dw(server, tmp_path, "storage:test", "--driver=ftp").exit_code == 2
    assert dw(server, tmp_path, "storage:test", "--large-bytes=0").exit_code == 2
    threshold = dw(server, tmp_path, "namespace:set-storage-driver", "billing", "s3", "--threshold-bytes=0")
    assert threshold.exit_code == 2


def test_search_attributes(server: ServerThread, tmp_path: Path) -> None:
    created = dw_json(server, tmp_path, "search-attribute:create", "OrderStatus", "keyword")
    assert (created["name"], created["type"], created["outcome"], created["namespace"]) == (
        "OrderStatus",
        "keyword",
        "created",
        "default",
    )
    # The plural alias and the grouped form run the same commands.
    dw_json(server, tmp_path, "search-attributes:create", "Priority", "int")
    listed = dw(server, tmp_path, "search-attributes", "list", "--output=jsonl")
    assert listed.exit_code == 0, listed.output
    document = one_document(listed)  # one document even with jsonl
    validate_output(document, "search-attribute:list")
    assert document["custom_attributes"] == {"OrderStatus": "keyword", "Priority": "int"}
    assert document["system_attributes"]["WorkflowType"] == "keyword"

    table = dw(server, tmp_path, "search-attribute:list")
    rows = [line.split() for line in table.stdout.splitlines()]
    assert ["OrderStatus", "keyword", "custom"] in rows
    assert ["WorkflowType", "keyword", "system"] in rows

    deleted = dw_json(server, tmp_path, "search-attribute:delete", "OrderStatus")
    assert (deleted["name"], deleted["outcome"]) == ("OrderStatus", "deleted")
    again = dw(server, tmp_path, "search-attribute:delete", "OrderStatus")
    assert again.exit_code == 5
    bad_type = dw(server, tmp_path, "search-attribute:create", "Region", "geo_point")
    assert bad_type.exit_code == 2
    assert "Validation:" in bad_type.stderr or "Reason:" in bad_type.stderr
