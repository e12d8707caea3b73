"""The documents of ``namespace:*``, ``storage:test`` and ``search-attribute:*``.

A namespace is the server's body with ``namespace`` equal to its ``name``
(``commands/namespace.py``); search-attribute documents carry the resolved namespace; the
storage test is the server's report as is.
"""

from __future__ import annotations

from .model import Array, Document, Node, Object, Typed, boolean, integer, record_of, text, texts

DRIVERS = ("local", "s3", "gcs", "azure")


def _policy(*, null: bool) -> Object:
    """A namespace's external payload storage policy."""
    return Object(
        {
            "driver": text(enum=DRIVERS),
            "enabled": boolean(),
            "threshold_bytes": integer(null=True, minimum=1),
            "config": Object(values=Typed(("string", "number", "integer", "boolean", "null"))),
            "updated_at": text(null=True),
        },
        required=("driver", "enabled"),
        nullable=null,
    )


NAMESPACE_FIELDS: dict[str, Node] = {
    "name": text(),
    "namespace": text(),
    "description": text(null=True),
    "retention_days": integer(null=True),
    "status": text(null=True),
    **texts("created_at", "updated_at"),
    "external_payload_storage": _policy(null=True),
}
NAMESPACE_ITEM = Object(NAMESPACE_FIELDS, required=("name", "namespace"))

NAMESPACE = Document(
    "namespace",
    "dw namespace create/describe/update/delete --json",
    Object(
        {**NAMESPACE_FIELDS, "deleted": Object(nullable=True, values=integer(minimum=0))},
        required=("name", "namespace"),
    ),
    description="namespace:delete: status deleted, and deleted counts the removed rows per table.",
)
LIST = Document(
    "namespace-list",
    "dw namespace:list --json",
    Object({"namespace": text(), "namespaces": Array(NAMESPACE_ITEM)}, required=("namespace", "namespaces")),
)
LIST_RECORD = record_of(
    LIST, "namespaces", name="namespace-list-record", title="dw namespace:list --output=jsonl"
)
STORAGE_POLICY = Document(
    "external-storage-policy",
    "dw namespace:set-storage-driver --json",
    Object(
        {**NAMESPACE_FIELDS, "external_payload_storage": _policy(null=False)}, required=("name", "namespace")
    ),
)

ROUND_TRIP = Object(
    {"status": text(), "bytes": integer(minimum=1), "sha256": text(), "reference_uri": text(null=True)},
    required=("status", "bytes", "sha256"),
)
STORAGE_TEST = Document(
    "storage-test",
    "dw storage:test --json",
    Object(
        {
            "status": text(),
            "driver": text(),
            "namespace": text(null=True),
            "small_payload": ROUND_TRIP,
            "large_payload": ROUND_TRIP,
        },
        required=("status", "driver", "small_payload", "large_payload"),
    ),
)

SEARCH_ATTRIBUTES = Document(
    "search-attribute-list",
    "dw search-attribute:list --json",
    Object(
        {
            "namespace": text(),
            "system_attributes": Object(values=text()),
            "custom_attributes": Object(values=text()),
        },
        required=("namespace", "system_attributes", "custom_attributes"),
    ),
)
SEARCH_ATTRIBUTE = Document(
    "search-attribute",
    "dw search-attribute create/delete --json",
    Object({"namespace": text(), **texts("name", "type", "outcome")}, required=("namespace", "name")),
)

COMMANDS: dict[str, tuple[str, Document]] = {
    **{f"namespace:{verb}": ("--json", NAMESPACE) for verb in ("create", "describe", "update", "delete")},
    "namespace:list": ("--json", LIST),
    "namespace:set-storage-driver": ("--json", STORAGE_POLICY),
    "storage:test": ("--json", STORAGE_TEST),
    "search-attribute:list": ("--json", SEARCH_ATTRIBUTES),
    "search-attribute:create": ("--json", SEARCH_ATTRIBUTE),
    "search-attribute:delete": ("--json", SEARCH_ATTRIBUTE),
}
JSONL: dict[str, Document] = {"namespace:list": LIST_RECORD}
