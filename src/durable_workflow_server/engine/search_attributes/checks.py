"""Search-attribute values checked against the namespace's registry, at start and on upsert.

Both run inside the transaction that writes the values, before anything is written, so a
refused start or completion leaves nothing behind:

* a start whose value does not fit its registered type is ``ValidationFailed`` (422) with an
  error on ``search_attributes.<Name>``;
* a workflow task whose ``upsert_search_attributes`` does (or that sets a system attribute) is
  refused like every other invalid command: ``ValidationFailed`` (422) on
  ``commands.<i>.attributes.<Name>``, the task stays leased to its worker, which reports the
  refusal as the task's failure (our worker and SDK 0.4.84 both do), and the task is retried.

Unregistered keys are accepted (see :mod:`.values`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow.protocol import commands as c

from ..errors import ValidationFailed
from ..transaction import Tx
from .rows import registered_types
from .values import check_values


async def check_start(
    tx: Tx, namespace: str, attributes: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The start's attributes normalised to their registered types (``null`` values dropped),
    and those types (what :func:`.rows.write_values` indexes them by, so it need not read them
    again in the same transaction)."""
    if not attributes:
        return {}, {}
    types = await registered_types(tx, namespace, attributes)
    checked, problems = check_values(attributes, types, allow_null=False)
    if problems:
        raise ValidationFailed({f"search_attributes.{name}": [message] for name, message in problems.items()})
    return checked, types


async def check_upserts(tx: Tx, namespace: str, commands: list[dict[str, Any]]) -> None:
    """Normalise every ``upsert_search_attributes`` command of a completion in place, or refuse it."""
    upserts = [(i, cmd) for i, cmd in enumerate(commands) if cmd["type"] == c.UPSERT_SEARCH_ATTRIBUTES]
    if not upserts:
        return
    types = await registered_types(tx, namespace, {name for _, cmd in upserts for name in cmd["attributes"]})
    errors: dict[str, list[str]] = {}
    for index, cmd in upserts:
        checked, problems = check_values(cmd["attributes"], types, allow_null=True)
        for name, message in problems.items():
            errors[f"commands.{index}.attributes.{name}"] = [message]
        cmd["attributes"] = checked
    if errors:
        raise ValidationFailed(errors)
