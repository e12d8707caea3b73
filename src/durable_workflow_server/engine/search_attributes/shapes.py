"""The answer bodies of the search-attribute routes (control-plane.md §8.8)."""

from __future__ import annotations

from typing import TypedDict


class SearchAttributeListBody(TypedDict):
    """``GET /search-attributes``: name → type, system and custom (sorted by name) apart."""

    system_attributes: dict[str, str]
    custom_attributes: dict[str, str]


class SearchAttributeCreatedBody(TypedDict):
    """``POST /search-attributes`` (201)."""

    name: str
    type: str
    outcome: str  # "created"


class SearchAttributeDeletedBody(TypedDict):
    """``DELETE /search-attributes/{name}`` (200)."""

    name: str
    outcome: str  # "deleted"
