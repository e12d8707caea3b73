"""Conformance: the schemas ``dw`` publishes against the contract's ``cli-output-schemas``.

``dw schema:manifest`` must name the commands of the contract's manifest, each with the same
output form (``--json``, ``--output=json``, ``stdout-json``, ``--output=jsonl``) and the same
document (the same commands share one schema). Commands ``dw`` has beyond the reference CLI are
listed in ``BEYOND_REFERENCE``; contract commands ``dw`` does not have (so it publishes no schema
for them) are strict expected failures in ``NOT_PUBLISHED_YET``, each with its reason, so one
that lands fails the suite until it is taken out of the set.

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

# Contract commands dw does not have (so it publishes no schema for them), each with why.
NOT_PUBLISHED_YET: dict[str, str] = {
    "workflow:migrate-v1": "the server has no Waterline v1 import route, so dw has no migrate-v1",
    **dict.fromkeys(
        ("activity:describe", "activity:list", "activities:describe", "activities:list"),
        "the server has no standalone-activity routes (/activities), so dw has no such command",
    ),
}


def _cases() -> list[Any]:
    cases = []
    for section in SECTIONS:
        for name in CONTRACT[section]:
            reason = NOT_PUBLISHED_YET.get(name)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
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
    assert contract >= set(NOT_PUBLISHED_YET)
