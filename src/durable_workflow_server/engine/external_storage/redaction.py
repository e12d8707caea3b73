"""Keep storage credentials out of the log.

botocore logs, at DEBUG, the canonical request it signs (with the ``x-amz-security-token``
header) and every request it sends (with its headers): a server whose operator turns on DEBUG
would write a disk's session token to the log. A filter on those loggers replaces the secret
values of every credential binding the server has built a client from before a record reaches
any handler; the rest of botocore's debug output is left as it is.
"""

from __future__ import annotations

import logging
import threading

REDACTED = "[redacted]"
# The botocore loggers whose records hold request headers or signing material.
_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.httpsession", "botocore.awsrequest")


class SecretRedactor(logging.Filter):
    """Rewrites a record's message with every registered secret replaced by ``[redacted]``."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, *secrets: str) -> None:
        with self._lock:
            self._secrets = self._secrets | {s for s in secrets if s}

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if not secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in secrets:
            cleaned = cleaned.replace(secret, REDACTED)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACTOR = SecretRedactor()
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_REDACTOR)


def redact(*secrets: str) -> None:
    """Never log ``secrets`` through botocore's request and signing loggers."""
    _REDACTOR.add(*secrets)
