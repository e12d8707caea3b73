"""Field types for the request models: one validator and one JSON schema per kind of field.

The contract's rules differ from pydantic's defaults in small ways that matter on the wire
(``"3600"`` and ``3600.0`` are integers, ``true`` is not; ``null`` is "absent" for optional
fields; a blank required string is missing), so each kind is a plain validator that raises a
:func:`problem` naming *what* is wrong. :mod:`.problems` turns those into the documented
message texts; the field name never appears here.

Validators return the value as received (after the check), so what reaches the engine is
exactly what the client sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from . import limits

# The placeholder default of fields whose absence is itself an error (validators run on it).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


def problem(kind: str, **context: Any) -> PydanticCustomError:
    """A field error of ``kind`` (a key of ``problems.TEMPLATES``) with template values."""
    return PydanticCustomError(kind, kind, context)


def as_int(value: Any) -> int | None:
    """An integer, or an integer-valued float or decimal string (never a boolean); else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9]+\s*", value):
        return int(value)
    return None


def parse_bool(value: str | None) -> bool | None:
    """Query-string booleans: ``1/0 true/false yes/no on/off``; ``None`` when absent or junk."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    return None


def _schema(schema: dict[str, Any], nullable: bool) -> WithJsonSchema:
    if nullable:
        return WithJsonSchema({"anyOf": [schema, {"type": "null"}]})
    return WithJsonSchema(schema)


# ---------------------------------------------------------------------- strings


def check_text(value: str) -> None:
    """Text that cannot be stored: NUL characters, unpaired surrogates."""
    issue = limits.text_problem(value)
    if issue is not None:
        raise problem(issue)


def text_check(
    *,
    required: bool = False,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    choices: Sequence[str] | None = None,
) -> Callable[[Any], str | None]:
    """The validator of a string field (see :func:`text`)."""

    def validate(value: Any) -> str | None:
        if value is None:
            if required:
                raise problem("required")
            return None
        if not isinstance(value, str):
            raise problem("string")
        if required and not value.strip():
            raise problem("required")
        if max_len is not None and len(value) > max_len:
            raise problem("too_long", max=max_len)
        if pattern is not None and not pattern.fullmatch(value):
            raise problem("format")
        if choices is not None and value not in choices:
            raise problem("choice", allowed=", ".join(choices))
        check_text(value)
        return value

    return validate


def text(
    *,
    required: bool = False,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    choices: Sequence[str] | None = None,
) -> Any:
    """A string field (``str`` when required, else ``str | None``)."""
    validate = text_check(required=required, max_len=max_len, pattern=pattern, choices=choices)
    schema: dict[str, Any] = {"type": "string"}
    if required:
        schema["minLength"] = 1
    if max_len is not None:
        schema["maxLength"] = max_len
    if pattern is not None:
        schema["pattern"] = f"^{pattern.pattern}$"
    if choices is not None:
        schema["enum"] = list(choices)
    python_type: Any = str if required else str | None
    return Annotated[python_type, PlainValidator(validate), _schema(schema, not required)]


# ---------------------------------------------------------------------- numbers


def integer_check(
    *, required: bool = False, minimum: int | None = None, maximum: int | None = None
) -> Callable[[Any], int | None]:
    """The validator of an integer field (see :func:`integer`)."""
    upper = limits.MAX_INT32 if maximum is None else maximum
    lower = limits.MIN_INT32 if minimum is None else minimum

    def validate(value: Any) -> int | None:
        if value is None:
            if required:
                raise problem("required")
            return None
        number = as_int(value)
        if number is None:
            raise problem("integer")
        if number < lower:
            raise problem("min", min=lower)
        if number > upper:
            raise problem("max", max=upper)
        return number

    return validate


def integer(*, required: bool = False, minimum: int | None = None, maximum: int | None = None) -> Any:
    """An integer field bounded by ``maximum`` or, when not given, by the ``INTEGER`` column."""
    upper = limits.MAX_INT32 if maximum is None else maximum
    lower = limits.MIN_INT32 if minimum is None else minimum
    validate = integer_check(required=required, minimum=minimum, maximum=maximum)
    schema: dict[str, Any] = {
        "anyOf": [
            {"type": "integer", "minimum": lower, "maximum": upper},
            {"type": "string", "pattern": r"^\s*[-+]?[0-9]+\s*$"},
        ]
    }
    if not required:
        schema["anyOf"].append({"type": "null"})
    python_type: Any = int if required else int | None
    return Annotated[python_type, PlainValidator(validate), WithJsonSchema(schema)]


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise problem("number")
    return value


Number = Annotated[float | int | None, PlainValidator(_number), _schema({"type": "number"}, True)]


def number_unless(other: str) -> Any:
    """A number that is not looked at when the field ``other`` already gave a valid number."""

    def validate(value: Any, info: ValidationInfo) -> float | int | None:
        if info.data.get(other) is not None:
            return None
        return _number(value)

    return Annotated[float | int | None, PlainValidator(validate), _schema({"type": "number"}, True)]


def _boolean(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise problem("boolean")
    return value


Boolean = Annotated[bool | None, PlainValidator(_boolean), _schema({"type": "boolean"}, True)]


def column_int(value: Any) -> Any:
    """Passes any value through, refusing only integers beyond an ``INTEGER`` column.

    Used on command fields whose shape the engine checks itself; only the range is ours.
    """
    number = as_int(value) if not isinstance(value, float) else None
    if number is not None and number > limits.MAX_INT32:
        raise problem("max", max=limits.MAX_INT32)
    if number is not None and number < limits.MIN_INT32:
        raise problem("min", min=limits.MIN_INT32)
    return value


def column_name(value: Any) -> Any:
    """Passes any value through, refusing only strings longer than a name column."""
    if isinstance(value, str) and len(value) > limits.NAME_LENGTH:
        raise problem("too_long", max=limits.NAME_LENGTH)
    return value


ColumnInt = Annotated[Any, PlainValidator(column_int), WithJsonSchema({})]
ColumnName = Annotated[Any, PlainValidator(column_name), WithJsonSchema({})]


# ---------------------------------------------------------------------- objects and lists


def check_object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise problem("object")
    return value


Object = Annotated[
    dict[str, Any] | None,
    PlainValidator(check_object),
    _schema({"type": "object", "additionalProperties": True}, True),
]


def required_object(value: Any) -> Any:
    """``null`` is "missing" for a required nested object (pydantic would call it a wrong type)."""
    if value is None:
        raise problem("required")
    return value


def none_as(default: Callable[[], Any]) -> BeforeValidator:
    """``null`` means the empty container for list and map fields."""
    return BeforeValidator(lambda value: default() if value is None else value)


def _list_item(max_len: int) -> Any:
    def validate(value: Any) -> str:
        if not isinstance(value, str):
            raise problem("string")
        if len(value) > max_len:
            raise problem("too_long", max=max_len)
        check_text(value)
        return value

    return Annotated[str, PlainValidator(validate), WithJsonSchema({"type": "string", "maxLength": max_len})]


NameItem = _list_item(limits.NAME_LENGTH)
NameList = Annotated[list[NameItem], none_as(list)]  # type: ignore[valid-type]
NameMap = Annotated[dict[str, NameItem], none_as(dict)]  # type: ignore[valid-type]
