"""Search attributes (control-plane.md §8.8).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.SEARCH_ATTRIBUTES, "list_search_attributes"),
    Operation("POST", routes.SEARCH_ATTRIBUTES, "create_search_attribute"),
    Operation("DELETE", routes.SEARCH_ATTRIBUTE, "delete_search_attribute"),
]
