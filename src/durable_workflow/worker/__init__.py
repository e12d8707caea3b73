"""The worker: registers with the server, polls task queues and runs workflows and activities."""

from __future__ import annotations

from ._compat import ServerCompatibilityError, check_server_compatibility
from ._worker import Worker

__all__ = ["ServerCompatibilityError", "Worker", "check_server_compatibility"]
