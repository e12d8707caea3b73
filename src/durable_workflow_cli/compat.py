"""The compatibility preflight (cli.md §2.5): may this CLI talk to that server?

Before its first real call a server-talking command reads ``GET /cluster/info`` and refuses
(exit 8) a server whose control plane is not version 2, whose request contract is missing,
whose ``client_compatibility.clients.cli.supported_versions`` excludes this CLI, or, for the
worker-plane commands, whose worker protocol has another major or an older minor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import CliError, ExitCode, NextStep

CONTROL_PLANE_VERSION = "2"
REQUEST_CONTRACT_SCHEMA = "durable-workflow.v2.control-plane-request.contract"
REQUEST_CONTRACT_VERSION = 1
WORKER_PROTOCOL = (1, 0)
_COMPARATOR = re.compile(r"\s*(>=|<=|==|!=|>|<|=|\^|~)?\s*v?([0-9][0-9A-Za-z.+-]*)\s*")


def _numbers(version: str) -> tuple[int, ...]:
    """The numeric release part: ``2.0.0-rc.35`` → ``(2, 0, 0)``; missing parts count as 0."""
    release = re.split(r"[-+]", version.strip().lstrip("v"), maxsplit=1)[0]
    parts = []
    for piece in release.split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    width = max(len(a), len(b))
    pa, pb = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (pa > pb) - (pa < pb)


def _holds(version: tuple[int, ...], op: str, bound_text: str) -> bool:
    bound = _numbers(bound_text)
    c = _cmp(version, bound)
    if op in ("", "=", "=="):
        return c == 0
    if op == "!=":
        return c != 0
    if op == ">=":
        return c >= 0
    if op == ">":
        return c > 0
    if op == "<=":
        return c <= 0
    if op == "<":
        return c < 0
    # ^1.2 → >=1.2,<2 (^0.3 → <0.4); ~1.2 → >=1.2,<1.3
    if c < 0:
        return False
    if op == "^":
        lead = next((i for i, n in enumerate(bound) if n != 0), len(bound) - 1)
        return version[: lead + 1] == bound[: lead + 1]
    return version[: max(len(bound) - 1, 1)] == bound[: max(len(bound) - 1, 1)]


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets ``constraint`` (``||`` alternatives of ``,``-joined comparators)."""
    parsed = _numbers(version)
    for alternative in constraint.split("||"):
        comparators = [c for c in re.split(r"[,\s]+(?=[<>=!^~v0-9])", alternative.strip()) if c.strip()]
        if not comparators:
            continue
        ok = True
        for comparator in comparators:
            match = _COMPARATOR.fullmatch(comparator)
            if match is None or not _holds(parsed, match.group(1) or "", match.group(2)):
                ok = False
                break
        if ok:
            return True
    return False


def _refuse(detail: str, *, cli_version: str, server_version: Any, window: Any) -> CliError:
    step = "Upgrade the CLI or the server so that their versions overlap; `dw doctor` shows both."
    return CliError(
        f"This server is not compatible with dw {cli_version}: {detail}",
        ExitCode.COMPATIBILITY,
        reason="compatibility_unsupported",
        next_steps=[NextStep("compatibility.unsupported", step, "dw server:info --output=json")],
        details={
            "compatibility": {
                "cli_version": cli_version,
                "server_version": server_version,
                "compatibility_window": window,
                "next_step": step,
                "detail": detail,
            }
        },
    )


def check(info: Mapping[str, Any], *, cli_version: str, worker_plane: bool = False) -> None:
    """Raise the exit-8 :class:`CliError` when ``info`` (a cluster-info body) refuses this CLI."""
    server_version = info.get("version")
    compatibility = info.get("client_compatibility")
    clients = compatibility.get("clients") if isinstance(compatibility, Mapping) else None
    cli = clients.get("cli") if isinstance(clients, Mapping) else None
    window = cli.get("supported_versions") if isinstance(cli, Mapping) else None

    def refuse(detail: str) -> CliError:
        return _refuse(detail, cli_version=cli_version, server_version=server_version, window=window)

    control = info.get("control_plane")
    if not isinstance(control, Mapping) or str(control.get("version")) != CONTROL_PLANE_VERSION:
        found = control.get("version") if isinstance(control, Mapping) else None
        raise refuse(f"it speaks control plane {found!r}, this CLI speaks {CONTROL_PLANE_VERSION!r}.")
    if isinstance(window, str) and window.strip() and not satisfies(cli_version, window):
        raise refuse(f"it supports CLI versions {window}.")
    contract = control.get("request_contract")
    if (
        not isinstance(contract, Mapping)
        or contract.get("schema") != REQUEST_CONTRACT_SCHEMA
        or contract.get("version") != REQUEST_CONTRACT_VERSION
        or not isinstance(contract.get("operations"), Mapping)
    ):
        raise refuse(f"it publishes no {REQUEST_CONTRACT_SCHEMA} v{REQUEST_CONTRACT_VERSION}.")
    if worker_plane:
        protocol = info.get("worker_protocol")
        declared = str(protocol.get("version")) if isinstance(protocol, Mapping) else ""
        parts = declared.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise refuse(f"it advertises no worker protocol version (got {declared!r}).")
        major, minor = int(parts[0]), int(parts[1])
        if major != WORKER_PROTOCOL[0] or minor < WORKER_PROTOCOL[1]:
            raise refuse(f"it speaks worker protocol {declared}, this CLI needs 1.x (x >= 0).")
