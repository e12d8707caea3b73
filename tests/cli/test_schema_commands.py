"""``dw schema:list``, ``schema:show`` and ``schema:manifest``: the schemas dw defines itself.

Every ``--json`` document the suite checks with ``validate_output`` is also checked against the
schema printed here (``tests.helpers.cli.validate_published``); the comparison with the
contract's manifest is in ``tests/conformance/test_cli_schemas.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from durable_workflow_cli import schemas
from durable_workflow_cli.cli import dw as dw_group
from tests.helpers.cli import invoke, validate_published


def _manifest(tmp_path: Path) -> dict[str, object]:
    result = invoke(["schema:manifest"], config_home=tmp_path)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_manifest_has_the_v3_format(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    assert (manifest["schema"], manifest["version"]) == ("durable-workflow.cli.output-schema-manifest", 3)
    assert manifest["json_schema_draft"] == "https://json-schema.org/draft/2020-12/schema"
    assert manifest["config_schemas"] == {}
    commands = manifest["commands"]
    assert isinstance(commands, dict) and "workflow:start" in commands
    assert set(commands["workflow:start"]) == {"output", "schema", "schema_id", "resolver_url", "sha256"}
    assert commands["workflows:list"] == commands["workflow:list"], "aliases carry their command's entry"


def test_every_digest_is_of_the_text_schema_show_prints(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    for section, flavour in (("commands", "json"), ("jsonl_commands", "jsonl")):
        entries = manifest[section]
        assert isinstance(entries, dict)
        for name, entry in entries.items():
            shown = invoke(["schema:show", name, f"--output={flavour}"], config_home=tmp_path)
            assert shown.exit_code == 0, shown.output
            assert entry["sha256"] == "sha256:" + hashlib.sha256(shown.stdout.encode()).hexdigest(), name
            schema = json.loads(shown.stdout)
            Draft202012Validator.check_schema(schema)
            assert schema["$id"] == entry["schema_id"]
            assert entry["schema"].endswith("/" + schema["$id"].rsplit("/", 1)[-1])


def test_the_manifest_names_only_commands_dw_has(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    names = set(dw_group.commands) | set(dw_group.aliases)
    for section in ("commands", "jsonl_commands"):
        entries = manifest[section]
        assert isinstance(entries, dict)
        assert set(entries) <= names, sorted(set(entries) - names)
    # Each jsonl command is a list command: its document has a list of the records.
    assert set(schemas.records()) <= set(schemas.outputs())


def test_schema_list_is_a_table_that_fits(tmp_path: Path) -> None:
    result = invoke(["schema:list"], config_home=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Type", "Name", "Output", "Schema"]
    assert any(
        line.split() == ["output", "workflow:list", "--output=jsonl", "workflow-list-record"]
        for line in lines
    )
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schema:show", "no:such"], "No published schema named no:such."),
        (
            ["schema:show", "workflow:start", "--output=jsonl"],
            "workflow:start has no published --output=jsonl",
        ),
    ],
)
def test_an_unknown_schema_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(args, config_home=tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr and "Try: dw schema:list" in result.stderr


def test_schema_commands_take_no_connection_options(tmp_path: Path) -> None:
    result = invoke(["schema:manifest", "--server=http://x"], config_home=tmp_path)
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_the_published_schemas_refuse_what_dw_never_prints() -> None:
    # The check of every printed document means something: a document without its namespace,
    # or with a wrongly typed field, is refused.
    with pytest.raises(AssertionError, match="workflow-list"):
        validate_published({"workflows": []}, "workflow:list")
    with pytest.raises(AssertionError, match="workflow-run"):
        validate_published(
            {"namespace": "default", "workflow_id": "w", "run_count": "2"}, "workflow:describe"
        )
    record = schemas.rendered(schemas.records()["workflow:history"])
    with pytest.raises(ValidationError):
        Draft202012Validator(record).validate({"sequence": 1})
