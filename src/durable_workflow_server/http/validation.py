"""Request-shape validation with Laravel-style messages (``{field: [messages]}``).

Hand-written rather than pydantic so that field names, message texts and the "wrong JSON type
names the field" rule match the wire contract exactly, and so that every check runs *before*
the engine is called (bad input writes nothing).
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons

from .errors import ApiError, validation_error

_MISSING: Any = object()


def _label(field: str) -> str:
    return field.replace("_", " ")


class Fields:
    """Collects field errors for one JSON object; ``check()`` raises the 422 envelope."""

    def __init__(self, body: Any) -> None:
        self.errors: dict[str, list[str]] = {}
        if body is None:
            self.data: Mapping[str, Any] = {}
        elif isinstance(body, Mapping):
            self.data = body
        else:
            self.data = {}
            self.add("body", "The request body must be a JSON object.")

    # ------------------------------------------------------------------ bookkeeping
    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def present(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        return self.data.get(name, _MISSING)

    def check(self) -> None:
        if self.errors:
            raise validation_error(self.errors)

    # ------------------------------------------------------------------ typed getters
    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
        choices: tuple[str, ...] | None = None,
    ) -> str | None:
        value = self.raw(name)
        if value is _MISSING or value is None:
            if required:
                self.add(name, f"The {_label(name)} field is required.")
            return None
        if not isinstance(value, str):
            self.add(name, f"The {_label(name)} field must be a string.")
            return None
        if required and not value.strip():
            self.add(name, f"The {_label(name)} field is required.")
            return None
        if max_len is not None and len(value) > max_len:
            self.add(name, f"The {_label(name)} field must not be greater than {max_len} characters.")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(name, f"The {_label(name)} field format is invalid.")
            return None
        if choices is not None and value not in choices:
            self.add(name, f"The selected {_label(name)} is invalid. Allowed values: {', '.join(choices)}.")
            return None
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.raw(name)
        if value is _MISSING or value is None:
            if required:
                self.add(name, f"The {_label(name)} field is required.")
            return None
        number = as_int(value)
        if number is None:
            self.add(name, f"The {_label(name)} field must be an integer.")
            return None
        if minimum is not None and number < minimum:
            self.add(name, f"The {_label(name)} field must be at least {minimum}.")
            return None
        if maximum is not None and number > maximum:
            self.add(name, f"The {_label(name)} field must not be greater than {maximum}.")
            return None
        return number

    def number(self, name: str) -> int | float | None:
        value = self.raw(name)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(name, f"The {_label(name)} field must be a number.")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, bool):
            self.add(name, f"The {_label(name)} field must be true or false.")
            return None
        return value

    def obj(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        value = self.raw(name)
        if value is _MISSING or value is None:
            if required:
                self.add(name, f"The {_label(name)} field is required.")
            return None
        if not isinstance(value, dict):
            self.add(name, f"The {_label(name)} field must be an object.")
            return None
        return value

    def string_list(self, name: str, *, max_item_len: int | None = 255) -> list[str]:
        value = self.raw(name)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.add(name, f"The {_label(name)} field must be an array.")
            return []
        result: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.add(f"{name}.{index}", f"The {_label(name)}.{index} field must be a string.")
            elif max_item_len is not None and len(item) > max_item_len:
                self.add(
                    f"{name}.{index}",
                    f"The {_label(name)}.{index} field must not be greater than {max_item_len} characters.",
                )
            else:
                result.append(item)
        return result

    def string_map(self, name: str, *, max_value_len: int = 255) -> dict[str, str]:
        value = self.obj(name)
        if value is None:
            return {}
        result: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(item, str):
                self.add(f"{name}.{key}", f"The {_label(name)}.{key} field must be a string.")
            elif len(item) > max_value_len:
                self.add(
                    f"{name}.{key}",
                    f"The {_label(name)}.{key} field must not be greater than {max_value_len} characters.",
                )
            else:
                result[key] = item
        return result

    def forbid(self, *names: str) -> None:
        """Each listed key that is present at all is an error (control-plane.md §8.3.2)."""
        for name in names:
            if name in self.data:
                self.add(name, f"The {_label(name)} field is not supported by this endpoint.")


def as_int(value: Any) -> int | None:
    """An integer, or an integer-valued string / float (Laravel's ``integer`` rule); else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
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


# ---------------------------------------------------------------------- caller payloads


def normalize_arguments(fields: Fields, name: str = "input") -> dict[str, Any] | None:
    """Turn a caller ``input`` into a ``{codec: "avro", blob}`` envelope (DECISIONS "Payloads").

    absent / ``null`` / ``[]`` → envelope of ``[]``; a JSON array → envelope of that list; an
    ``{codec, blob}`` envelope with codec ``avro`` whose blob decodes → kept verbatim; any other
    codec → 422 ``unsupported_payload_codec``; anything else → 422 on the field.
    Returns ``None`` when an error was recorded.
    """
    value = fields.raw(name)
    if value is _MISSING or value is None or value == []:
        return codec.envelope([])
    if isinstance(value, list):
        try:
            return codec.envelope(value)
        except codec.PayloadCodecError as exc:
            fields.add(name, f"The {name} field could not be encoded: {exc}")
            return None
    if isinstance(value, dict) and set(value) == {"codec", "blob"}:
        return _check_envelope(fields, name, value)
    if isinstance(value, dict) and set(value) == {"codec", "external_storage"}:
        fields.add(
            f"{name}.external_storage",
            "External payload storage is not configured for this namespace; send the blob inline.",
        )
        return None
    if isinstance(value, dict):
        fields.add(name, f"The {name} field must be a JSON array of arguments or a {{codec, blob}} envelope.")
        return None
    fields.add(name, f"The {name} field must be an array or a {{codec, blob}} envelope.")
    return None


def _check_envelope(fields: Fields, name: str, value: dict[str, Any]) -> dict[str, Any] | None:
    payload_codec, blob = value["codec"], value["blob"]
    if not isinstance(payload_codec, str) or payload_codec not in codec.SUPPORTED_CODECS:
        # A codec we cannot read would be stored and then break every replay: refuse it outright
        # with its own reason so clients can tell it apart from a field-shape error.
        raise ApiError(
            422,
            reasons.UNSUPPORTED_PAYLOAD_CODEC,
            f"Payload codec {payload_codec!r} is not supported; use 'avro' or send plain JSON.",
            errors={
                f"{name}.codec": [f"The {name} codec must be one of: {', '.join(codec.SUPPORTED_CODECS)}."]
            },
            validation_errors={
                f"{name}.codec": [f"The {name} codec must be one of: {', '.join(codec.SUPPORTED_CODECS)}."]
            },
            supported_codecs=list(codec.SUPPORTED_CODECS),
        )
    if not isinstance(blob, str):
        fields.add(f"{name}.blob", f"The {name}.blob field must be a string.")
        return None
    try:
        codec.decode(blob, payload_codec)
    except (codec.PayloadCodecError, binascii.Error, ValueError, json.JSONDecodeError) as exc:
        fields.add(f"{name}.blob", f"The {name}.blob field is not a valid {payload_codec} payload: {exc}")
        return None
    return {"codec": payload_codec, "blob": blob}


def check_result_payload(fields: Fields, name: str) -> Any:
    """A worker-supplied payload (bare blob string, envelope or ``null``); only the codec is checked."""
    value = fields.raw(name)
    if value is _MISSING:
        return None
    if isinstance(value, dict) and set(value) == {"codec", "blob"}:
        payload_codec = value.get("codec")
        if payload_codec not in codec.SUPPORTED_CODECS:
            fields.add(
                f"{name}.codec", f"The {name} codec must be one of: {', '.join(codec.SUPPORTED_CODECS)}."
            )
    return value
