"""``dw schema:*``: the JSON Schemas of ``dw``'s own documents (no server traffic).

The schemas are built from the shapes the CLI declares (``durable_workflow_cli.schemas``),
imported only when one of these commands runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..command import Invocation, command
from ..errors import invalid

if TYPE_CHECKING:
    from ..schemas import Manifest

LOCAL = {"server": False, "preflight": False, "namespaced": False, "output": False}


def _aliases(inv: Invocation) -> dict[str, str]:
    """Alias → command, as the ``dw`` group registered them."""
    aliases = getattr(inv.ctx.find_root().command, "aliases", None)
    return dict(aliases) if isinstance(aliases, dict) else {}


def _manifest(inv: Invocation) -> Manifest:
    from .. import schemas

    return schemas.manifest(_aliases(inv))


@command(
    "schema:list",
    summary="List the published JSON Schemas of dw's --json and jsonl output.",
    example="dw schema:list",
    **LOCAL,
)
def list_schemas(inv: Invocation) -> None:
    published = _manifest(inv)
    rows = [
        ["output", name, entry["output"], _stem(entry["schema"])]
        for name, entry in published["commands"].items()
    ]
    rows += [
        ["output", name, entry["output"], _stem(entry["schema"])]
        for name, entry in published["jsonl_commands"].items()
    ]
    rows += [
        ["config", name, "-", _stem(entry["schema"])] for name, entry in published["config_schemas"].items()
    ]
    inv.out.table(["Type", "Name", "Output", "Schema"], rows, empty="No schemas are published.")
    inv.out.line("Files: schemas/output/<schema>.schema.json; ids and digests: dw schema:manifest.")


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".schema.json")


@command(
    "schema:show",
    summary="Print the JSON Schema of a command's --json document (or of one jsonl line).",
    example="dw schema:show workflow:list --output=jsonl",
    **LOCAL,
)
@click.argument("schema_name", metavar="SCHEMA-NAME")
@click.option(
    "--output",
    "flavour",
    type=click.Choice(("json", "jsonl")),
    help="json: the command's document (default); jsonl: one line of a list command.",
)
def show(inv: Invocation, schema_name: str, flavour: str | None) -> None:
    from .. import schemas

    command_name = _aliases(inv).get(schema_name, schema_name)
    if flavour == "jsonl":
        document = schemas.records().get(command_name)
        if document is None:
            raise invalid(
                f"{schema_name} has no published --output=jsonl schema.",
                hint="List the published schemas.",
                command="dw schema:list",
            )
    else:
        found = schemas.outputs().get(command_name)
        if found is None:
            raise invalid(
                f"No published schema named {schema_name}.",
                hint="List the published schemas.",
                command="dw schema:list",
            )
        document = found[1]
    # The same text as schemas.schema_text, whose digest the manifest lists.
    inv.out.document(schemas.rendered(document), pretty=True)


@command(
    "schema:manifest",
    summary="Print the manifest of every published schema (paths, ids, sha256 digests).",
    example="dw schema:manifest",
    **LOCAL,
)
def manifest(inv: Invocation) -> None:
    inv.out.document(_manifest(inv), pretty=True)


COMMANDS = (list_schemas, show, manifest)
