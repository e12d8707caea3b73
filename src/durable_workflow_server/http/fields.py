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
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

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
        text = value.strip().lstrip("+")
        if len(text.lstrip("-")) > _MAX_DIGITS:
            # Beyond every range we check (and beyond what int() parses quickly, or at all past
            # 4,300 digits): a stand-in that fails the field's range check with its own message.
            return -_TOO_MANY_DIGITS if text.startswith("-") else _TOO_MANY_DIGITS
        return int(text)
    return None


_MAX_DIGITS = 20
_TOO_MANY_DIGITS: int = 10**_MAX_DIGITS


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


def text_check(
    *,
    required: bool = False,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    choices: Sequence[str] | None = None,
) -> Callable[[Any], str | None]:
    """The validator of a string field (see :class:`Text`)."""
    rule = Text(required, max_len, pattern, None if choices is None else tuple(choices))
    return rule.validate


class _Rule:
    """A field annotation carrying its own validator and JSON schema.

    ``Annotated[str | None, Text(max_len=255)]`` keeps the field's Python type visible to the
    type checker while pydantic validates with :meth:`validate` and documents with :meth:`schema`.
    """

    def validate(self, value: Any) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.schema()


@dataclass(frozen=True)
class Text(_Rule):
    """A string field: ``str`` when ``required``, else ``str | None`` (``null`` is absent)."""

    required: bool = False
    max_len: int | None = None
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] | None = None

    def validate(self, value: Any) -> str | None:
        if value is None:
            if self.required:
                raise problem("required")
            return None
        if not isinstance(value, str):
            raise problem("string")
        if self.required and not value.strip():
            raise problem("required")
        if self.max_len is not None and len(value) > self.max_len:
            raise problem("too_long", max=self.max_len)
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise problem("format")
        if self.choices is not None and value not in self.choices:
            raise problem("choice", allowed=", ".join(self.choices))
        return value

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.required:
            schema["minLength"] = 1
        if self.max_len is not None:
            schema["maxLength"] = self.max_len
        if self.pattern is not None:
            schema["pattern"] = f"^{self.pattern.pattern}$"
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        return schema if self.required else {"anyOf": [schema, {"type": "null"}]}


# ---------------------------------------------------------------------- numbers


def integer_check(
    *, required: bool = False, minimum: int | None = None, maximum: int | None = None
) -> Callable[[Any], int | None]:
    """The validator of an integer field (see :class:`Integer`)."""
    return Integer(required, minimum, maximum).validate


@dataclass(frozen=True)
class Integer(_Rule):
    """An integer field bounded by ``maximum`` or, when not given, by the ``INTEGER`` column."""

    required: bool = False
    minimum: int | None = None
    maximum: int | None = None

    def validate(self, value: Any) -> int | None:
        if value is None:
            if self.required:
                raise problem("required")
            return None
        number = as_int(value)
        if number is None:
            raise problem("integer")
        lower = limits.MIN_INT32 if self.minimum is None else self.minimum
        if number < lower:
            raise problem("min", min=lower)
        upper = limits.MAX_INT32 if self.maximum is None else self.maximum
        if number > upper:
            raise problem("max", max=upper)
        return number

    def schema(self) -> dict[str, Any]:
        upper = limits.MAX_INT32 if self.maximum is None else self.maximum
        lower = limits.MIN_INT32 if self.minimum is None else self.minimum
        options: list[dict[str, Any]] = [
            {"type": "integer", "minimum": lower, "maximum": upper},
            {"type": "string", "pattern": r"^\s*[-+]?[0-9]+\s*$"},
        ]
        if not self.required:
            options.append({"type": "null"})
        return {"anyOf": options}


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise problem("number")
    return value


Number = Annotated[float | int | None, PlainValidator(_number), _schema({"type": "number"}, True)]


@dataclass(frozen=True)
class NumberUnless(_Rule):
    """A number that is not looked at when the field ``other`` already gave a valid number."""

    other: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(self.validate_with_info)

    def validate_with_info(self, value: Any, info: ValidationInfo) -> float | int | None:
        if info.data.get(self.other) is not None:
            return None
        return _number(value)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "number"}, {"type": "null"}]}


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


@dataclass(frozen=True)
class TextItem(_Rule):
    """A string inside an array or a map (never ``null``)."""

    max_len: int

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise problem("string")
        if len(value) > self.max_len:
            raise problem("too_long", max=self.max_len)
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_len}


NameItem = Annotated[str, TextItem(limits.NAME_LENGTH)]
NameList = Annotated[list[NameItem], none_as(list)]
NameMap = Annotated[dict[str, NameItem], none_as(dict)]
