"""The search-attribute vocabulary: types, the system attributes, names and limits.

System attributes are facts of every run (its type, id, status, times, queue): always listed,
never stored in the registry, never settable by a caller, and filtered on the run's own columns.
Custom attributes are registered per namespace with one of :data:`TYPES`.
"""

from __future__ import annotations

import re
from typing import Final

from ...store.statuses import SearchAttributeType

TYPES: Final = tuple(t.value for t in SearchAttributeType)

# name -> type, in the order the contract lists them.
SYSTEM_ATTRIBUTES: Final[dict[str, str]] = {
    "WorkflowType": SearchAttributeType.KEYWORD,
    "WorkflowId": SearchAttributeType.KEYWORD,
    "RunId": SearchAttributeType.KEYWORD,
    "Status": SearchAttributeType.KEYWORD,
    "StartTime": SearchAttributeType.DATETIME,
    "CloseTime": SearchAttributeType.DATETIME,
    "TaskQueue": SearchAttributeType.KEYWORD,
    "BuildId": SearchAttributeType.KEYWORD,
}
# A custom name may not differ from a system one by case only: ``workflowtype`` in a query would
# otherwise read as the system attribute to a person and as the custom one to the parser.
RESERVED_NAMES: Final = frozenset(name.lower() for name in SYSTEM_ATTRIBUTES)

NAME_PATTERN: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
MAX_NAME_LENGTH: Final = 128
MAX_VALUE_BYTES: Final = 2048  # a keyword, text or keyword_list item (the contract's limit)
MAX_CUSTOM_ATTRIBUTES: Final = 100  # per namespace (the contract's ``max_search_attributes``)
MAX_INT64: Final = 2**63 - 1

# Refusal reasons of the registry routes (control-plane.md §8.8).
NAME_RESERVED: Final = "name_reserved"
ATTRIBUTE_ALREADY_EXISTS: Final = "attribute_already_exists"
SYSTEM_ATTRIBUTE: Final = "system_attribute"
LIMIT_REACHED: Final = "search_attribute_limit_reached"


def is_reserved(name: str) -> bool:
    """Whether ``name`` is a system attribute's name (compared without case)."""
    return name.lower() in RESERVED_NAMES
