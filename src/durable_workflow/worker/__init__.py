"""The worker: registers with the server, polls task queues and runs workflows and activities."""

from __future__ import annotations

from ._compat import ServerCompatibilityError
from ._plane import WorkerPlaneClient
from ._worker import Worker

__all__ = ["ServerCompatibilityError", "Worker", "WorkerPlaneClient"]
