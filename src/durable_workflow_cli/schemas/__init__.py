"""The JSON Schemas ``dw`` publishes for its ``--json`` documents and ``jsonl`` records.

The CLI defines them itself: each noun declares the shapes its commands print in
``schemas/<noun>.py`` (with the language of ``model.py``), listed in ``MODULES`` below; this module
renders them to JSON Schema 2020-12 and builds the manifest of ``dw schema:manifest`` (cli.md
§3.12: ``durable-workflow.cli.output-schema-manifest`` version 3). Ids and paths follow the v3
envelope layout, so a document is found by the same id as the envelope it describes; each
entry's ``sha256`` is the digest of the exact text ``dw schema:show`` prints.

Imported only by the ``schema:*`` commands (and tests), never at ``dw --help`` time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TypedDict

from . import (
    bridge,
    debug,
    env,
    namespace,
    schedule,
    server,
    system,
    task_queue,
    worker,
    worker_tasks,
    workflow,
)
from .model import JSON, Document

MODULES = (
    workflow,
    env,
    namespace,
    schedule,
    server,
    system,
    task_queue,
    worker,
    worker_tasks,
    bridge,
    debug,
)

MANIFEST_SCHEMA = "durable-workflow.cli.output-schema-manifest"
MANIFEST_VERSION = 3
RESOLVER_BASE = "https://durable-workflow.github.io/cli-json-envelopes/v3/"
JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
JSONL = "--output=jsonl"


class ManifestEntry(TypedDict):
    """Where one command's schema is and what its text digests to."""

    output: str
    schema: str
    schema_id: str
    resolver_url: str
    sha256: str


class Manifest(TypedDict):
    """The ``schema:manifest`` document."""

    schema: str
    version: int
    artifact_id: str
    resolver_url: str
    json_schema_draft: str
    stability: str
    commands: dict[str, ManifestEntry]
    jsonl_commands: dict[str, ManifestEntry]
    config_schemas: dict[str, ManifestEntry]


def outputs() -> dict[str, tuple[str, Document]]:
    """Command → (how its one document is asked for, the document), for every noun."""
    found: dict[str, tuple[str, Document]] = {}
    for module in MODULES:
        found.update(module.COMMANDS)
    return found


def records() -> dict[str, Document]:
    """List command → the document of one of its ``--output=jsonl`` lines."""
    found: dict[str, Document] = {}
    for module in MODULES:
        found.update(module.JSONL)
    return found


def schema_path(document: Document) -> str:
    return f"schemas/output/{document.name}.schema.json"


def schema_id(document: Document) -> str:
    return f"{RESOLVER_BASE}schemas/{document.name}.schema.json"


def rendered(document: Document) -> dict[str, JSON]:
    """The JSON Schema of ``document``."""
    return document.render(schema_id(document))


def schema_text(document: Document) -> str:
    """The schema as ``dw schema:show`` prints it (pretty JSON and a newline): what is digested."""
    return json.dumps(rendered(document), indent=2, ensure_ascii=False) + "\n"


def _entry(output: str, document: Document) -> ManifestEntry:
    digest = hashlib.sha256(schema_text(document).encode("utf-8")).hexdigest()
    return {
        "output": output,
        "schema": schema_path(document),
        "schema_id": schema_id(document),
        "resolver_url": schema_id(document),
        "sha256": f"sha256:{digest}",
    }


def manifest(aliases: Mapping[str, str] | None = None) -> Manifest:
    """The manifest; ``aliases`` (alias → command) get the entries of their commands too."""
    names = dict(aliases or {})
    documents, lines = outputs(), records()

    def entries(table: Mapping[str, tuple[str, Document]]) -> dict[str, ManifestEntry]:
        found = {command: _entry(output, document) for command, (output, document) in table.items()}
        for alias, command in names.items():
            if command in table:
                found[alias] = found[command]
        return dict(sorted(found.items()))

    return {
        "schema": MANIFEST_SCHEMA,
        "version": MANIFEST_VERSION,
        "artifact_id": f"{MANIFEST_SCHEMA}@{MANIFEST_VERSION}",
        "resolver_url": f"{RESOLVER_BASE}manifest.json",
        "json_schema_draft": JSON_SCHEMA_DRAFT,
        "stability": "patch-stable-additive",
        "commands": entries(documents),
        "jsonl_commands": entries({command: (JSONL, document) for command, document in lines.items()}),
        # dw reads no configuration file that has a published schema (its profiles file has none).
        "config_schemas": {},
    }
