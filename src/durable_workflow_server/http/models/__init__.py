"""Pydantic request models, one module per noun: what each route accepts, field by field.

The models are the single statement of a request's shape: the routes validate with them and
the OpenAPI document is generated from them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator
from pydantic.functional_validators import ModelWrapValidatorHandler
from typing_extensions import Self


class RequestModel(BaseModel):
    """A request body or query: unknown keys are ignored, as the contract asks."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, validate_default=False)


class WireObject(BaseModel):
    """A nested object the engine takes as sent: checked field by field, handed on verbatim."""

    model_config = ConfigDict(extra="allow")
    _raw: dict[str, object] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        if isinstance(data, dict):
            model._raw = data
        return model

    def wire(self) -> dict[str, object]:
        """The object exactly as the client sent it (same keys, order and values)."""
        return self._raw
