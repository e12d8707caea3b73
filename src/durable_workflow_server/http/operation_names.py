"""The rule for signal, query and update names taken from the path (``{name}``).

A name must be non-empty, at most :data:`MAX_OPERATION_NAME_BYTES` bytes of UTF-8 and free of
control characters; otherwise the request is ``422 validation_failed`` on ``<kind>_name``
(``signal_name``, ``query_name``, ``update_name``), before the engine is asked.
"""

from __future__ import annotations

import re

from .errors import validation_error

MAX_OPERATION_NAME_BYTES = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_operation_name(kind: str, name: str) -> str:
    """``name`` if it is a valid ``kind`` name, else raise the 422 naming ``<kind>_name``."""
    field = f"{kind}_name"
    label = f"{kind} name"
    problem = None
    if not name:
        problem = f"The {label} field is required."
    elif len(name.encode("utf-8", "surrogatepass")) > MAX_OPERATION_NAME_BYTES:
        problem = f"The {label} must not be greater than {MAX_OPERATION_NAME_BYTES} bytes."
    elif _CONTROL.search(name):
        problem = f"The {label} must not contain control characters."
    if problem is not None:
        raise validation_error({field: [problem]})
    return name
