"""``dw search-attribute:*``: the namespace's search-attribute registry (list, create, delete).

``search-attribute:list`` prints one document even with ``--output=jsonl`` (cli.md §3.4): the
registry is two maps, not a list of records.
"""

from __future__ import annotations

from typing import Any

import click

from ..command import Invocation, command
from ..views import status, with_namespace


@command(
    "search-attribute:list",
    summary="List the namespace's search attributes, system and custom.",
    example="dw search-attribute:list",
    aliases=("search-attributes:list",),
)
def list_attributes(inv: Invocation) -> None:
    answer = inv.call(lambda client: client.list_search_attributes())
    if inv.json:
        body = with_namespace(answer.raw, inv.namespace)
        body["system_attributes"] = answer.system_attributes
        body["custom_attributes"] = answer.custom_attributes
        inv.out.document(body)
        return
    inv.out.fields([("Namespace", inv.namespace)])
    rows = [[name, kind, "system"] for name, kind in sorted(answer.system_attributes.items())]
    rows += [[name, kind, "custom"] for name, kind in sorted(answer.custom_attributes.items())]
    inv.out.table(["Name", "Type", "Source"], rows, empty="No search attributes defined.")


def _show(inv: Invocation, title: str, body: dict[str, Any], name: str) -> None:
    document = with_namespace(body, inv.namespace)
    document.setdefault("name", name)
    if inv.json:
        inv.out.document(document)
        return
    inv.out.title(title)
    inv.out.fields(
        [
            ("Namespace", document["namespace"]),
            ("Type", document.get("type")),
            ("Outcome", status(document.get("outcome"))),
        ]
    )


@command(
    "search-attribute:create",
    summary="Register a custom search attribute.",
    example="dw search-attribute:create OrderStatus keyword",
    aliases=("search-attributes:create",),
)
@click.argument("name")
@click.argument("attribute_type", metavar="TYPE")
def create(inv: Invocation, name: str, attribute_type: str) -> None:
    """TYPE is one of keyword, text, int, double, bool, datetime, keyword_list."""
    body = inv.call(lambda client: client.create_search_attribute(name, attribute_type))
    document = dict(body)
    document.setdefault("type", attribute_type)
    _show(inv, f"Search attribute created: {name}", document, name)


@command(
    "search-attribute:delete",
    summary="Remove a custom search attribute (values on runs stay).",
    example="dw search-attribute:delete OrderStatus",
    aliases=("search-attributes:delete",),
)
@click.argument("name")
def delete(inv: Invocation, name: str) -> None:
    body = inv.call(lambda client: client.delete_search_attribute(name))
    _show(inv, f"Search attribute deleted: {name}", dict(body), name)


COMMANDS = (list_attributes, create, delete)
