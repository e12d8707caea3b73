"""Request model of ``POST /search-attributes`` (control-plane.md §8.8)."""

from __future__ import annotations

from typing import Annotated

from ...engine.search_attributes.types import MAX_NAME_LENGTH, NAME_PATTERN, TYPES
from .. import fields as f
from . import RequestModel


class CreateSearchAttributeBody(RequestModel):
    """A custom attribute: its name (a letter, then letters, digits, ``_``) and its type."""

    name: Annotated[str, f.Text(required=True, max_len=MAX_NAME_LENGTH, pattern=NAME_PATTERN)]
    type: Annotated[str, f.Text(required=True, choices=TYPES)]
