"""``dw server:health`` and ``dw server:info`` (alias ``cluster:info``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..command import Invocation, command
from ..views import status


@command(
    "server:health",
    summary="Check that the server is up (exit 0 even when a check is unhealthy).",
    example="dw server:health --output=json",
    preflight=False,
    namespaced=False,
    json_flag=False,
)
def health(inv: Invocation) -> None:
    body = inv.call(lambda client: client.health())
    if inv.json:
        inv.out.document(body)
        return
    inv.out.title(f"Server is {body.get('status', 'unknown')}")
    inv.out.fields([("Server", inv.settings.server), ("Timestamp", inv.out.moment(body.get("timestamp")))])
    checks = body.get("checks")
    rows = []
    for name, check in checks.items() if isinstance(checks, Mapping) else []:
        state = check.get("status") if isinstance(check, Mapping) else check
        action = check.get("action") if isinstance(check, Mapping) else None
        rows.append([name, status(state), action])
    if rows:
        inv.out.table(["Check", "Status", "Action"], rows, empty="")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _section(inv: Invocation, title: str, rows: list[tuple[str, Any]]) -> None:
    if any(value not in (None, "", {}) for _, value in rows):
        inv.out.line("")
        inv.out.title(title)
        inv.out.fields(rows)


@command(
    "server:info",
    summary="Show the server's version, capabilities and protocol contracts.",
    example="dw server:info --output=json",
    json_flag=False,
    namespaced=False,
    aliases=("cluster:info",),
)
def info(inv: Invocation) -> None:
    body = inv.call(lambda client: client.get_cluster_info())
    if inv.json:
        inv.out.document(body)
        return
    get = body.get
    inv.out.title("Server")
    inv.out.fields(
        [
            ("Server ID", get("server_id")),
            ("Version", get("version")),
            ("Default Namespace", get("default_namespace")),
            ("URL", inv.settings.server),
        ]
    )
    capabilities = get("capabilities")
    if isinstance(capabilities, Mapping):
        enabled = sorted(name for name, on in capabilities.items() if on is True)
        _section(inv, "Capabilities", [("Enabled", ", ".join(enabled) or None)])
    control = _map(get("control_plane"))
    contract = _map(control.get("request_contract"))
    _section(
        inv,
        "Control plane",
        [
            ("Version", control.get("version")),
            ("Header", control.get("header")),
            (
                "Request Contract",
                f"{contract.get('schema')} v{contract.get('version')}" if contract else None,
            ),
        ],
    )
    worker = _map(get("worker_protocol"))
    _section(inv, "Worker protocol", [("Version", worker.get("version"))])
    limits = get("limits")
    if isinstance(limits, Mapping):
        _section(inv, "Limits", [(str(k), v) for k, v in limits.items() if not isinstance(v, (dict, list))])


COMMANDS: tuple[click.Command, ...] = (health, info)
