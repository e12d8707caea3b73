"""The rule for signal, query and update names taken from the path (``{name}``).

A name must be non-empty, at most :data:`MAX_OPERATION_NAME_BYTES` bytes of UTF-8 and free of
control characters (0x00-0x1F, 0x7F); otherwise the request is ``422 validation_failed`` on
``<kind>_name`` (``signal_name``, ``query_name``, ``update_name``), before the engine is asked.
"""

from __future__ import annotations

from .errors import validation_error

#: ``DW_MAX_OPERATION_NAME_LENGTH`` of the contract: signal, query and update names, in bytes.
MAX_OPERATION_NAME_BYTES = 256


def operation_name_errors(name: str, field: str) -> dict[str, list[str]]:
    """The contract's rules for a signal/query/update name in the path (empty when it is fine)."""
    label = field.replace("_", " ")
    if not name:
        return {field: [f"The {label} field is required."]}
    if len(name.encode("utf-8", "surrogatepass")) > MAX_OPERATION_NAME_BYTES:
        return {field: [f"The {label} must not be longer than {MAX_OPERATION_NAME_BYTES} bytes."]}
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return {field: [f"The {label} must not contain control characters."]}
    return {}


def check_operation_name(kind: str, name: str) -> str:
    """``name`` if it is a valid ``kind`` (``signal``/``query``/``update``) name, else the 422."""
    problems = operation_name_errors(name, f"{kind}_name")
    if problems:
        raise validation_error(problems)
    return name
