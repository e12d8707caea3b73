"""Pydantic request models, one module per noun: what each route accepts, field by field.

The models are the single statement of a request's shape: the routes validate with them and
the OpenAPI document is generated from them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A request body or query: unknown keys are ignored, as the contract asks."""

    model_config = ConfigDict(extra="ignore")


class WireObject(BaseModel):
    """A nested object the engine takes as sent: checked field by field, handed on whole.

    Its validators return values unchanged and unknown keys are kept, so :meth:`wire` gives the
    engine every key the client sent, with the client's values.
    """

    model_config = ConfigDict(extra="allow")

    def wire(self) -> dict[str, Any]:
        """The object's keys and values as the client sent them."""
        return self.model_dump(exclude_unset=True)
