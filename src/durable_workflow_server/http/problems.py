"""One renderer from pydantic's collected errors to the contract's 422 envelope.

Each error becomes ``{"<dotted.location>": ["<message>"]}``, in the order the fields are
declared, every field's error at once. Messages follow one sentence rule: the field's name
with underscores as spaces, and a field of a nested object named after its parent
(``failure.message`` → "The failure message field is required."). Inside an array or a map
the location stays dotted (``commands.0.type`` → "The commands.0.type field is required.").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons

from .errors import ApiError, validation_error

# ``{p}`` is the parent object's name (with a trailing space) and ``{n}`` the field's own.
TEMPLATES: dict[str, str] = {
    "required": "The {p}{n} field is required.",
    "missing": "The {p}{n} field is required.",
    "string": "The {p}{n} field must be a string.",
    "too_long": "The {p}{n} field must not be greater than {max} characters.",
    "format": "The {p}{n} field format is invalid.",
    "choice": "The {p}selected {n} is invalid. Allowed values: {allowed}.",
    "integer": "The {p}{n} field must be an integer.",
    "min": "The {p}{n} field must be at least {min}.",
    "max": "The {p}{n} field must not be greater than {max}.",
    "number": "The {p}{n} field must be a number.",
    "boolean": "The {p}{n} field must be true or false.",
    "datetime": "The {p}{n} field must be an RFC 3339 date-time such as 2026-04-22T05:00:00Z.",
    "object": "The {p}{n} field must be an object.",
    "model_type": "The {p}{n} field must be an object.",
    "model_attributes_type": "The {p}{n} field must be an object.",
    "dict_type": "The {p}{n} field must be an object.",
    "array": "The {p}{n} field must be an array.",
    "list_type": "The {p}{n} field must be an array.",
    "unsupported": "The {p}{n} field is not supported by this endpoint.",
    "max_items": "The {p}{n} field must not have more than {max} items.",
    "id_items": "Each item of the {p}{n} field must be a string of 1 to {max} characters.",
    "nul": "The {p}{n} field must not contain NUL characters.",
    "surrogate": "The {p}{n} field must be valid Unicode text (it contains an unpaired surrogate).",
}
BODY_NOT_OBJECT = "The request body must be a JSON object."
UNSUPPORTED_CODEC = "unsupported_codec"


def _words(name: str) -> str:
    return name.replace("_", " ")


def _nested_model(model: type[BaseModel] | None, name: str) -> type[BaseModel] | None:
    if model is None or name not in model.model_fields:
        return None
    annotation = model.model_fields[name].annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def locate(model: type[BaseModel] | None, loc: Sequence[str | int]) -> tuple[str, str, str]:
    """``(key, parent words, field words)`` for an error location inside ``model``."""
    key = ".".join(str(part) for part in loc)
    parent, name = "", ""
    current = model
    dotted = False
    for index, part in enumerate(loc):
        if index == 0:
            name = _words(str(part))
        elif not dotted and isinstance(part, str) and current is not None and part in current.model_fields:
            parent, name = f"{parent}{name} ", _words(part)
        else:
            dotted = True
            name = f"{name}.{part}"
        current = _nested_model(current, str(part)) if not dotted else None
    return key, parent, name


def message_for(kind: str, parent: str, name: str, context: dict[str, Any]) -> list[str]:
    if kind == "message":
        return [str(context["message"])]
    if kind == "messages":
        return [str(text) for text in context["messages"]]
    template = TEMPLATES.get(kind, "The {p}{n} field is invalid.")
    return [template.format(p=parent, n=name, **context)]


def field_errors(model: type[BaseModel] | None, errors: Iterable[Any]) -> dict[str, list[str]]:
    """Collect ``(loc, kind, context)`` triples or pydantic error dicts into the wire shape."""
    collected: dict[str, list[str]] = {}
    for error in errors:
        context = dict(error.get("ctx") or {})
        loc = list(error["loc"])
        override = context.pop("key", None)
        key, parent, name = locate(model, loc)
        if override is not None:
            key = str(override)
        collected.setdefault(key, []).extend(message_for(error["type"], parent, name, context))
    return collected


def unsupported_codec(field: str, given: Any) -> ApiError:
    """A codec we cannot read would be stored and then break every replay: its own reason."""
    supported = ", ".join(codec.SUPPORTED_CODECS)
    errors = {f"{field}.codec": [f"The {field} codec must be one of: {supported}."]}
    return ApiError(
        422,
        reasons.UNSUPPORTED_PAYLOAD_CODEC,
        f"Payload codec {given!r} is not supported; use 'avro' or send plain JSON.",
        errors=errors,
        validation_errors=errors,
        supported_codecs=list(codec.SUPPORTED_CODECS),
    )


def render(
    model: type[BaseModel], exc: ValidationError, prefix: dict[str, list[str]] | None = None
) -> ApiError:
    """The 422 envelope for a failed model validation (or the codec refusal, which wins)."""
    details = exc.errors(include_url=False, include_input=False)
    for error in details:
        if error["type"] == UNSUPPORTED_CODEC:
            context = error.get("ctx") or {}
            return unsupported_codec(str(context["field"]), context["given"])
    errors = dict(prefix or {})
    for key, messages in field_errors(model, details).items():
        errors.setdefault(key, []).extend(messages)
    return validation_error(errors)
