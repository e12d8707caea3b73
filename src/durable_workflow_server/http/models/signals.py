"""Request model of the signal routes (``POST /workflows/{id}[/runs/{runId}]/signal/{name}``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PlainValidator, WithJsonSchema

from .. import fields as f
from . import RequestModel
from .commands import REQUEST_ID_MAX
from .workflows import _PAYLOAD_SCHEMA, normalize_arguments


class SignalWorkflowBody(RequestModel):
    """The signal's arguments (as the start route accepts them) and an optional retry key."""

    input: Annotated[dict[str, str], PlainValidator(normalize_arguments), WithJsonSchema(_PAYLOAD_SCHEMA)] = (
        Field(default=None, validate_default=True)
    )
    request_id: Annotated[str | None, f.Text(max_len=REQUEST_ID_MAX)] = None
