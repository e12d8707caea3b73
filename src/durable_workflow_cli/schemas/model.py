"""A small declarative language for the shapes ``dw`` prints, rendered to JSON Schema 2020-12.

Each noun declares its documents with these nodes (``schemas/<noun>.py``); ``render`` turns one
into the schema ``schema:show`` prints and ``schema:manifest`` digests. Every object is open
(``additionalProperties: true``) unless declared closed: the published shapes are additive, so a
server field ``dw`` passes through never breaks a consumer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TypeAlias

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None
DRAFT = "https://json-schema.org/draft/2020-12/schema"


class Node:
    """One schema node."""

    def render(self) -> JSON:
        """This node as JSON Schema."""
        raise NotImplementedError


@dataclass(frozen=True)
class AnyValue(Node):
    """Any JSON value (caller payloads, handler results)."""

    def render(self) -> JSON:
        return True


@dataclass(frozen=True)
class Typed(Node):
    """A value of one of ``types`` (JSON Schema type names), optionally one constant, one of a
    set of values (``null`` joins them when it is one of the types) or a minimum."""

    types: tuple[str, ...]
    const: str | int | bool | None = None
    minimum: int | None = None
    enum: tuple[str, ...] = ()

    def render(self) -> JSON:
        out: dict[str, JSON] = {"type": self.types[0] if len(self.types) == 1 else list(self.types)}
        if self.const is not None:
            out["const"] = self.const
        if self.enum:
            out["enum"] = [*self.enum, *([None] if "null" in self.types else [])]
        if self.minimum is not None:
            out["minimum"] = self.minimum
        return out


@dataclass(frozen=True)
class Array(Node):
    """A list of ``items`` (``null`` allowed when ``nullable``)."""

    items: Node
    nullable: bool = False

    def render(self) -> JSON:
        return {"type": ["array", "null"] if self.nullable else "array", "items": self.items.render()}


@dataclass(frozen=True)
class Object(Node):
    """An object with the declared ``fields``.

    Attributes:
        fields: Field name → node, in the order shown.
        required: Fields that are always present.
        nullable: ``null`` is accepted instead of the object.
        values: The schema of undeclared fields (``None``: anything).
        closed: Undeclared fields are refused.
        alternatives: Sets of fields of which at least one set is all present (``anyOf``).
        exclusive: Sets of fields of which exactly one set is all present (``oneOf``).
        depends: Field → the fields that must accompany it (``dependentRequired``).
    """

    fields: Mapping[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    nullable: bool = False
    values: Node | None = None
    closed: bool = False
    alternatives: tuple[tuple[str, ...], ...] = ()
    exclusive: tuple[tuple[str, ...], ...] = ()
    depends: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def render(self) -> JSON:
        if self.nullable and (self.alternatives or self.exclusive):
            # ``required`` holds vacuously for null, so null would match every anyOf/oneOf
            # branch (and fail oneOf): null is its own alternative instead.
            return {"anyOf": [{"type": "null"}, replace(self, nullable=False).render()]}
        out: dict[str, JSON] = {"type": ["object", "null"] if self.nullable else "object"}
        if self.required:
            out["required"] = list(self.required)
        if self.alternatives:
            out["anyOf"] = [{"required": list(names)} for names in self.alternatives]
        if self.exclusive:
            out["oneOf"] = [{"required": list(names)} for names in self.exclusive]
        if self.fields:
            out["properties"] = {name: node.render() for name, node in self.fields.items()}
        if self.depends:
            out["dependentRequired"] = {name: list(names) for name, names in self.depends.items()}
        if self.closed:
            out["additionalProperties"] = False
        elif self.values is not None:
            out["additionalProperties"] = self.values.render()
        else:
            out["additionalProperties"] = True
        return out


def text(*, null: bool = False, const: str | None = None, enum: tuple[str, ...] = ()) -> Typed:
    """A string (or ``null``), optionally one constant or one of ``enum``."""
    return Typed(("string", "null") if null else ("string",), const=const, enum=enum)


def integer(*, null: bool = False, minimum: int | None = None) -> Typed:
    """An integer (or ``null``)."""
    return Typed(("integer", "null") if null else ("integer",), minimum=minimum)


def number(*, null: bool = False) -> Typed:
    """A number, integral or not (or ``null``)."""
    return Typed(("number", "null") if null else ("number",))


def boolean(*, null: bool = False) -> Typed:
    """A boolean (or ``null``)."""
    return Typed(("boolean", "null") if null else ("boolean",))


def any_object(*, null: bool = False) -> Object:
    """An object with any fields."""
    return Object(nullable=null)


ANY = AnyValue()


def texts(*names: str) -> dict[str, Node]:
    """Fields that are each a string or ``null`` (the common case of a server's optional fields)."""
    return dict.fromkeys(names, text(null=True))


def integers(*names: str, null: bool = True, minimum: int | None = None) -> dict[str, Node]:
    """Fields that are each an integer (or ``null`` unless ``null=False``)."""
    return dict.fromkeys(names, integer(null=null, minimum=minimum))


def objects(*names: str) -> dict[str, Node]:
    """Fields that are each an object with any fields, or ``null``."""
    return dict.fromkeys(names, any_object(null=True))


def lists_of_objects(*names: str) -> dict[str, Node]:
    """Fields that are each a list of objects with any fields, or ``null``."""
    return dict.fromkeys(names, Array(any_object(), nullable=True))


@dataclass(frozen=True)
class Document:
    """One published schema: a document ``dw`` prints (or one line of a ``jsonl`` listing).

    Attributes:
        name: The file stem (``workflow-start``): ``schemas/output/<name>.schema.json``.
        title: What prints it (``dw workflow:start --json``).
        shape: The document's shape.
        description: A note on when the shape varies.
    """

    name: str
    title: str
    shape: Object
    description: str | None = None

    def render(self, schema_id: str) -> dict[str, JSON]:
        """The JSON Schema document, with its ``$id``."""
        head: dict[str, JSON] = {"$schema": DRAFT, "$id": schema_id, "title": self.title}
        if self.description:
            head["description"] = self.description
        body = self.shape.render()
        assert isinstance(body, dict)
        return {**head, **body}


def record_of(document: Document, key: str, *, name: str, title: str) -> Document:
    """The ``jsonl`` record document of a list ``document``: the shape of its ``key`` items."""
    items = document.shape.fields[key]
    assert isinstance(items, Array) and isinstance(items.items, Object), f"{document.name}.{key}"
    return Document(name, title, items.items)
