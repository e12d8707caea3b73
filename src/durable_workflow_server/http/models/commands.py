"""Request models of the run commands: cancel, terminate, repair and archive."""

from __future__ import annotations

from typing import Annotated

from .. import fields as f
from . import RequestModel

REASON_MAX, REQUEST_ID_MAX = 1000, 255


class RepairBody(RequestModel):
    """``POST .../repair``: an optional ``request_id`` (recorded only; the SDK sends ``{}``)."""

    request_id: Annotated[str | None, f.Text(max_len=REQUEST_ID_MAX)] = None


class ReasonedCommandBody(RepairBody):
    """``POST .../cancel``, ``.../terminate``, ``.../archive``: an optional ``reason`` too."""

    reason: Annotated[str | None, f.Text(max_len=REASON_MAX)] = None
