"""``dw namespace:*``: list, describe, create, update, delete, and the external storage policy.

Namespace commands name their target as the positional ``name`` (the ``X-Namespace`` header
still carries the resolved namespace); their JSON documents carry ``namespace`` equal to
``name`` (cli.md §2.7). ``storage:test`` is in ``storage.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from ..command import Invocation, command
from ..errors import invalid
from ..views import status, with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import NamespaceDescription

DRIVERS = ("local", "s3", "gcs", "azure")
# ``--option`` → the policy's ``config`` key, in the order the human view lists them.
CONFIG_OPTIONS = (
    ("uri", "uri"),
    ("disk", "disk"),
    ("bucket", "bucket"),
    ("prefix", "prefix"),
    ("region", "region"),
    ("endpoint", "endpoint"),
    ("auth_profile", "auth_profile"),
)


def _document(described: NamespaceDescription, name: str) -> dict[str, Any]:
    """The server's namespace body with ``namespace`` equal to its name."""
    body = dict(described.raw)
    body.setdefault("name", described.name or name)
    body.setdefault("namespace", body["name"])
    return body


def _fields(inv: Invocation, described: NamespaceDescription) -> list[tuple[str, Any]]:
    policy = described.external_payload_storage
    return [
        ("Description", described.description),
        ("Retention", f"{described.retention_days} days" if described.retention_days is not None else None),
        ("Status", status(described.status)),
        ("External Storage", _policy_line(policy) if policy is not None else None),
        ("Created", inv.out.moment(described.created_at)),
        ("Updated", inv.out.moment(described.updated_at)),
        ("Deleted", ", ".join(f"{k}={v}" for k, v in described.deleted.items()) or None),
    ]


def _policy_line(policy: Mapping[str, Any]) -> str:
    state = "enabled" if policy.get("enabled", True) else "disabled"
    threshold = policy.get("threshold_bytes")
    over = f", over {threshold} bytes" if threshold is not None else ""
    return f"{policy.get('driver')} ({state}{over})"


def _show(inv: Invocation, title: str, described: NamespaceDescription, name: str) -> None:
    if inv.json:
        inv.out.document(_document(described, name))
        return
    inv.out.title(title)
    inv.out.fields(_fields(inv, described))


@command(
    "namespace:list",
    summary="List the namespaces you may use.",
    example="dw namespace:list",
)
def list_namespaces(inv: Invocation) -> None:
    answer = inv.call(lambda client: client.list_namespaces())
    rows = [_document(described, described.name) for described in answer.namespaces]
    if inv.json:
        body = with_namespace({**answer.raw, "namespaces": rows}, inv.namespace)
        inv.out.records(body, "namespaces")
        return
    inv.out.table(
        ["Namespace", "Description", "Retention (days)", "Status"],
        (
            [described.name, described.description, described.retention_days, status(described.status)]
            for described in answer.namespaces
        ),
        empty="No namespaces found.",
    )


@command(
    "namespace:describe",
    summary="Describe a namespace, with its external storage policy.",
    example="dw namespace:describe billing",
)
@click.argument("name")
def describe(inv: Invocation, name: str) -> None:
    described = inv.call(lambda client: client.describe_namespace(name))
    _show(inv, f"Namespace: {described.name or name}", described, name)


@command(
    "namespace:create",
    summary="Create a namespace (admin).",
    example="dw namespace:create billing --description='Billing workflows' --retention=90",
)
@click.argument("name")
@click.option("--description", "-d", help="What the namespace is for.")
@click.option("--retention", "-r", type=int, default=30, show_default=True, help="Days closed runs are kept.")
def create(inv: Invocation, name: str, description: str | None, retention: int) -> None:
    described = inv.call(
        lambda client: client.create_namespace(name, description=description, retention_days=retention)
    )
    _show(inv, f"Namespace created: {described.name or name}", described, name)


@command(
    "namespace:update",
    summary="Change a namespace's description or retention (admin).",
    example="dw namespace:update billing --retention=120",
)
@click.argument("name")
@click.option("--description", "-d", help="New description.")
@click.option("--retention", "-r", type=int, help="New retention, in days.")
def update(inv: Invocation, name: str, description: str | None, retention: int | None) -> None:
    if description is None and retention is None:
        raise invalid(
            "Nothing to update: pass --description or --retention.",
            command=f"dw namespace:update {name} --retention=90",
        )
    described = inv.call(
        lambda client: client.update_namespace(name, description=description, retention_days=retention)
    )
    _show(inv, f"Namespace updated: {described.name or name}", described, name)


@command(
    "namespace:delete",
    summary="Delete a namespace and everything in it (admin).",
    example="dw namespace:delete billing",
)
@click.argument("name")
def delete(inv: Invocation, name: str) -> None:
    described = inv.call(lambda client: client.delete_namespace(name))
    _show(inv, f"Namespace deleted: {described.name or name}", described, name)


@command(
    "namespace:set-storage-driver",
    summary="Set a namespace's external payload storage policy (admin).",
    example="dw namespace:set-storage-driver billing s3 --bucket=dw-payloads --threshold-bytes=2097152",
)
@click.argument("name")
@click.argument("driver", metavar="DRIVER")
@click.option("--disable", is_flag=True, help="Keep the policy but stop storing payloads externally.")
@click.option("--threshold-bytes", type=int, help="Store payloads larger than this externally.")
@click.option("--uri", help="Where the driver stores objects (local: a file:// URI).")
@click.option("--disk", help="Server-side credential binding to use.")
@click.option("--bucket", help="Bucket or container.")
@click.option("--prefix", help="Key prefix inside the bucket.")
@click.option("--region", help="Region of the bucket.")
@click.option("--endpoint", help="Endpoint URL of the object store.")
@click.option("--auth-profile", help="Credential profile the server uses.")
def set_storage_driver(
    inv: Invocation,
    name: str,
    driver: str,
    disable: bool,
    threshold_bytes: int | None,
    **config_options: str | None,
) -> None:
    """DRIVER is one of local, s3, gcs, azure."""
    if driver not in DRIVERS:
        raise invalid(f"Unknown storage driver {driver!r}: use one of {', '.join(DRIVERS)}.")
    if threshold_bytes is not None and threshold_bytes < 1:
        raise invalid("--threshold-bytes must be a positive number of bytes.")
    config = {key: config_options[option] for option, key in CONFIG_OPTIONS if config_options[option]}
    described = inv.call(
        lambda client: client.set_namespace_external_storage(
            name,
            driver=driver,
            enabled=not disable,
            threshold_bytes=threshold_bytes,
            config=config or None,
        )
    )
    if inv.json:
        inv.out.document(_document(described, name))
        return
    policy = described.external_payload_storage
    inv.out.title(f"External storage updated for namespace {described.name or name}")
    if policy is None:
        inv.out.line("The server answered without a policy.")
        return
    inv.out.fields(
        [
            ("Driver", policy.driver),
            ("Enabled", policy.enabled),
            ("Threshold", f"{policy.threshold_bytes} bytes" if policy.threshold_bytes is not None else None),
            # Names only: values may point at credentials and are the server's business.
            ("Config", ", ".join(sorted(policy.config)) or None),
        ]
    )


COMMANDS = (list_namespaces, describe, create, update, delete, set_storage_driver)
