"""The import-linter contracts in pyproject.toml list every SDK module they must.

import-linter's ``forbidden`` contract cannot say "everything but durable_workflow.protocol", so
the contracts that keep the server (and the protocol package) off the rest of the SDK name each
other top-level SDK module. A new module would silently be allowed; this test notices it.
"""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path
from typing import Any

import durable_workflow

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _contract(name_start: str) -> dict[str, Any]:
    contracts = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    matching = [c for c in contracts if c["name"].startswith(name_start)]
    assert len(matching) == 1, name_start
    found: dict[str, Any] = matching[0]
    return found


def _sdk_modules_except_protocol() -> set[str]:
    names = {info.name for info in pkgutil.iter_modules(durable_workflow.__path__)}
    return {f"durable_workflow.{name}" for name in names if name != "protocol"}


def _sdk_part(modules: list[str]) -> set[str]:
    return {m for m in modules if m.startswith("durable_workflow.")}


def test_the_server_contract_forbids_every_sdk_module_but_the_protocol() -> None:
    contract = _contract("The server takes only durable_workflow.protocol")
    assert contract["source_modules"] == ["durable_workflow_server"]
    assert _sdk_part(contract["forbidden_modules"]) == _sdk_modules_except_protocol()
    assert "durable_workflow_cli" in contract["forbidden_modules"]


def test_the_protocol_contract_forbids_every_other_sdk_module() -> None:
    contract = _contract("The protocol package imports nothing else")
    assert contract["source_modules"] == ["durable_workflow.protocol"]
    assert _sdk_part(contract["forbidden_modules"]) == _sdk_modules_except_protocol()
    assert {"durable_workflow_server", "durable_workflow_cli"} <= set(contract["forbidden_modules"])


def test_the_module_listing_sees_the_packages_and_plain_modules() -> None:
    # Guards the guard: pkgutil must report both sub-packages and single-file modules.
    modules = _sdk_modules_except_protocol()
    assert {"durable_workflow.client", "durable_workflow.errors", "durable_workflow.sync"} <= modules
