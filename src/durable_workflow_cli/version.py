"""The build identity ``dw --version`` and ``dw doctor`` print (cli.md §2.1, §2.2).

The version is the installed distribution's; ``DW_CLI_VERSION``, ``DW_CLI_COMMIT`` and
``DW_CLI_BUILD_DATE`` override the three parts (for source checkouts and packagers). Without
``DW_CLI_COMMIT`` the commit is read from the checkout the package runs from, if it is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import compat
from .connection import cli_version
from .errors import CliError

if TYPE_CHECKING:
    from .runtime import Runtime
    from .settings import Flags, Settings

UNKNOWN = "unknown"


@dataclass(frozen=True)
class BuildIdentity:
    """What this ``dw`` is: version, short commit and build date (``unknown`` when not known)."""

    version: str
    commit: str
    build_date: str

    def line(self) -> str:
        """``dw 0.1.0 (commit abc1234, built 2026-08-20)``."""
        return f"dw {self.version} (commit {self.commit}, built {self.build_date})"

    def as_dict(self) -> dict[str, str]:
        return {"version": self.version, "commit": self.commit, "build_date": self.build_date}


def _checkout_commit() -> str | None:
    """The short commit of the git checkout holding this package (an editable install)."""
    here = Path(__file__).resolve().parent
    if not any((parent / ".git").exists() for parent in (here, *here.parents)):
        return None  # an installed wheel: no git call at all
    import subprocess  # only --version and doctor get here; --help does not pay for it

    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def build_identity(environ: Mapping[str, str]) -> BuildIdentity:
    """The identity of this build, the ``DW_CLI_*`` overrides applied."""
    return BuildIdentity(
        version=environ.get("DW_CLI_VERSION") or cli_version(),
        commit=environ.get("DW_CLI_COMMIT") or _checkout_commit() or UNKNOWN,
        build_date=environ.get("DW_CLI_BUILD_DATE") or UNKNOWN,
    )


def compatibility_warning(settings: Settings, runtime: Runtime) -> str | None:
    """The one warning ``--version`` prints for an explicitly selected server, or ``None``.

    Best effort (cli.md §2.1): a 5 s read of ``/cluster/info``; a server that cannot be reached
    or read gives no warning, only one that answers and is incompatible does.
    """
    import asyncio

    from .connection import PREFLIGHT_TIMEOUT_SECONDS, connect

    async def read() -> dict[str, Any]:
        async with connect(settings, runtime) as client:
            return await client.get_cluster_info(timeout=PREFLIGHT_TIMEOUT_SECONDS)

    try:
        info = asyncio.run(asyncio.wait_for(read(), PREFLIGHT_TIMEOUT_SECONDS))
    except Exception:
        return None
    try:
        compat.check(info, cli_version=cli_version())
    except CliError as err:
        return f"Compatibility warning: {err.message} Run `dw doctor` for details."
    return None


def target_selected(flags: Flags, environ: Mapping[str, str]) -> bool:
    """Whether a server was named explicitly (``--server``, ``--env``, or their variables)."""
    return bool(
        flags.server or flags.env or environ.get("DURABLE_WORKFLOW_SERVER_URL") or environ.get("DW_ENV")
    )
