"""Typed results of the search-attribute methods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SearchAttributeList"]


def _types(data: Mapping[str, Any], key: str) -> dict[str, str]:
    # PHP servers render an empty map as ``[]``; anything that is not a name -> type map is empty.
    value = data.get(key)
    if not isinstance(value, Mapping):
        return {}
    return {str(name): str(kind) for name, kind in value.items() if isinstance(kind, str)}


@dataclass(frozen=True)
class SearchAttributeList:
    """``list_search_attributes``: the namespace's attribute definitions, name → type.

    ``system_attributes`` are the engine-defined keys (``WorkflowType``, ``StartTime``, ...) that
    are always present and cannot be created or deleted; ``custom_attributes`` are the ones
    registered with :meth:`~durable_workflow.Client.create_search_attribute`.
    """

    system_attributes: dict[str, str]
    custom_attributes: dict[str, str]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def all(self) -> dict[str, str]:
        """System and custom attributes together (a custom key never shares a system name)."""
        return {**self.system_attributes, **self.custom_attributes}

    def type_of(self, name: str) -> str | None:
        """The type of attribute ``name``, or ``None`` when it is not defined."""
        return self.all.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.all

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchAttributeList:
        """Build from a ``GET /search-attributes`` body."""
        return cls(
            system_attributes=_types(data, "system_attributes"),
            custom_attributes=_types(data, "custom_attributes"),
            raw=dict(data),
        )
