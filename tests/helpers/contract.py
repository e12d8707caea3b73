"""Where the shared contract data lives: the one place the conformance tier finds it.

The contract data (request fixtures and codec vectors published with the wire contract) is
kept outside this repository and is never copied into it. ``DW_CONTRACT_DIR`` names the
folder; a relative value is taken from the repository root, and the default is
``../shared/contract``, a sibling of the clone. Tests under ``tests/conformance/`` read it;
every other test uses the project's own fixtures under ``tests/fixtures/``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DW_CONTRACT_DIR"
DEFAULT = "../shared/contract"
REPO_ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE_TESTS = REPO_ROOT / "tests" / "conformance"


def contract_dir() -> Path:
    """The contract data folder named by ``DW_CONTRACT_DIR`` (it may not exist)."""
    path = Path(os.environ.get(ENV_VAR) or DEFAULT)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path.resolve()


def missing_reason() -> str | None:
    """Why the conformance tier cannot run here, or ``None`` when the contract data is present."""
    path = contract_dir()
    if path.is_dir():
        return None
    return f"no contract data at {path} (set {ENV_VAR} to the folder to run it)"


def required_in_ci() -> bool:
    """CI on this project's machine always has the contract data, so its absence is an error."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}
