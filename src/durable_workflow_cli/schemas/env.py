"""The documents the ``env:*`` commands print (``commands/env.py``): local profiles, no server.

A profile is ``Profile.describe`` plus whether it is the current one and where the file is;
every field is always printed (unset ones as ``null``), the stored token only as its source.
"""

from __future__ import annotations

from .model import Array, Document, Node, Object, boolean, record_of, text

OUTPUT_MODES = ("table", "json", "jsonl")
TOKEN_SOURCE = Object(
    {"type": text(enum=("literal", "env")), "env": text(), "value": text()},
    required=("type",),
    nullable=True,
    exclusive=(("env",), ("value",)),
)
PROFILE_FIELDS: dict[str, Node] = {
    "name": text(),
    "server": text(null=True),
    "namespace": text(null=True),
    "tls_verify": boolean(),
    "output": text(null=True, enum=OUTPUT_MODES),
    "token_source": TOKEN_SOURCE,
    "current": boolean(),
    "config_path": text(),
}
PROFILE_ITEM = Object(PROFILE_FIELDS, required=tuple(PROFILE_FIELDS))

PROFILE = Document(
    "env-profile",
    "dw env:set / dw env:use / dw env:show --json",
    PROFILE_ITEM,
    description="A literal token prints as 'redacted' unless --show-token is given.",
)
LIST = Document(
    "env-list",
    "dw env:list --json",
    Object(
        {"current_env": text(null=True), "config_path": text(), "envs": Array(PROFILE_ITEM)},
        required=("current_env", "config_path", "envs"),
    ),
)
LIST_RECORD = record_of(LIST, "envs", name="env-list-record", title="dw env:list --output=jsonl")
DELETE = Document(
    "env-delete",
    "dw env:delete --json",
    Object(
        {"name": text(), "deleted": boolean(), "cleared_current_env": boolean(), "config_path": text()},
        required=("name", "deleted", "cleared_current_env", "config_path"),
    ),
)

COMMANDS: dict[str, tuple[str, Document]] = {
    "env:set": ("--json", PROFILE),
    "env:use": ("--json", PROFILE),
    "env:show": ("--json", PROFILE),
    "env:list": ("--json", LIST),
    "env:delete": ("--json", DELETE),
}
JSONL: dict[str, Document] = {"env:list": LIST_RECORD}
