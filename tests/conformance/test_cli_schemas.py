"""Conformance: the schemas ``dw`` publishes against the contract's ``cli-output-schemas``.

``dw schema:manifest`` must name the commands of the contract's manifest, each with the same
output form (``--json``, ``--output=json``, ``stdout-json``, ``--output=jsonl``) and the same
document (the same commands share one schema). Commands ``dw`` has beyond the reference CLI are
listed in ``BEYOND_REFERENCE``; contract commands whose schema ``dw`` does not publish yet (their
command is still to come, or its shapes are not declared yet) are strict expected failures in
``NOT_PUBLISHED_YET``, so one that lands fails the suite until it is taken out of the set.

That every document the suite prints validates against both schemas is checked where it is
printed (``validate_output`` in the CLI tests, ``validate`` in ``test_cli_parity.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow_cli import schemas
from durable_workflow_cli.cli import dw
from tests.helpers.contract import contract_dir

pytestmark = pytest.mark.conformance

CONTRACT = json.loads((contract_dir() / "cli-output-schemas" / "manifest.json").read_text())
OURS = schemas.manifest(dw.aliases)
SECTIONS = ("commands", "jsonl_commands")

# Commands of dw that the reference CLI does not have.
BEYOND_REFERENCE = frozenset({"workflow:pause", "workflow:resume"})

# Per noun, delete its block when its shapes are declared in durable_workflow_cli/schemas/.
NOT_PUBLISHED_YET = frozenset(
    {"debug", "workflow:migrate-v1"}
    | {"activity:complete", "activity:fail", "activity:describe", "activity:list"}
    | {"activities:describe", "activities:list"}
    | {"bridge:webhook"}
    | {"env:delete", "env:list", "env:set", "env:show", "env:use"}
    | {f"namespace:{verb}" for verb in ("create", "delete", "describe", "list", "update")}
    | {"namespace:set-storage-driver", "storage:test"}
    | {"query-task:complete", "query-task:fail", "query-task:poll"}
    | {f"schedule:{verb}" for verb in ("backfill", "create", "delete", "describe", "history", "list")}
    | {f"schedule:{verb}" for verb in ("pause", "resume", "trigger", "update")}
    | {
        f"{noun}:{verb}"
        for noun in ("search-attribute", "search-attributes")
        for verb in ("create", "delete")
    }
    | {"search-attribute:list", "search-attributes:list"}
    | {"cluster:info", "server:health", "server:info"}
    | {f"system:{name}" for name in ("activity-timeout-pass", "activity-timeout-status", "operator-metrics")}
    | {f"system:{name}" for name in ("repair-pass", "repair-status", "retention-pass", "retention-status")}
    | {f"task-queue:{verb}" for verb in ("build-ids", "drain", "promote", "resume", "describe", "list")}
    | {f"worker:{verb}" for verb in ("register", "deregister", "describe", "list")}
    | {f"workflow-task:{verb}" for verb in ("complete", "fail", "history", "poll")}
)


def _cases() -> list[Any]:
    cases = []
    for section in SECTIONS:
        for name in CONTRACT[section]:
            marks = (
                [pytest.mark.xfail(strict=True, reason="dw does not publish this schema yet")]
                if name in NOT_PUBLISHED_YET
                else []
            )
            cases.append(pytest.param(section, name, marks=marks, id=f"{section}:{name}"))
    return cases


@pytest.mark.parametrize(("section", "name"), _cases())
def test_dw_publishes_the_contract_command(section: str, name: str) -> None:
    theirs = CONTRACT[section][name]
    ours = OURS[section].get(name)  # type: ignore[literal-required]
    assert ours is not None, f"dw schema:manifest has no {section} entry for {name}"
    assert ours["output"] == theirs["output"]
    # The same document (file name) as the contract: commands share schemas the same way.
    assert Path(ours["schema"]).name == Path(theirs["schema"]).name


def test_dw_publishes_no_command_outside_the_contract() -> None:
    for section in SECTIONS:
        extra = set(OURS[section]) - set(CONTRACT[section]) - BEYOND_REFERENCE  # type: ignore[literal-required]
        assert not extra, f"{section}: {sorted(extra)}"


def test_the_not_yet_set_names_only_contract_commands() -> None:
    contract = set(CONTRACT["commands"]) | set(CONTRACT["jsonl_commands"])
    assert contract >= NOT_PUBLISHED_YET
