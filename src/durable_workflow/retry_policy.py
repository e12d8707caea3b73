"""Transport retry policy of the HTTP client.

The SDK retries requests that failed for reasons that are likely transient: the connection
could not be made, the request timed out, the server answered 5xx, or it asked us to slow down
(429). The delay before retry ``n`` (0-based) is ``initial_backoff_seconds * multiplier**n``,
capped at ``max_backoff_seconds``, then spread by ±``jitter_ratio`` so that many clients
recovering from the same outage do not retry in lock step.

Retries resend the *same* body, so a worker poll keeps its ``poll_request_id`` and the server
can answer a duplicate with the task it already leased.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_RETRY_POLICY", "TransportRetryPolicy"]


def _default_retryable_statuses() -> frozenset[int]:
    return frozenset({429, *range(500, 600)})


@dataclass(frozen=True)
class TransportRetryPolicy:
    """How often and how patiently the client retries transient transport failures.

    Attributes:
        max_attempts: Total number of attempts, including the first one (``1`` disables retries).
        initial_backoff_seconds: Delay before the first retry, before jitter.
        backoff_multiplier: Growth factor of the delay for each further retry.
        max_backoff_seconds: Upper bound of the delay, before jitter.
        jitter_ratio: The delay is multiplied by a random factor in ``[1 - r, 1 + r]``.
        retryable_status_codes: HTTP statuses that are retried (429 and every 5xx by default).
        sleep: Coroutine used to wait between attempts; tests inject a recorder to stay instant.
        random: Source of jitter in ``[0, 1)``; injectable for deterministic tests.
    """

    max_attempts: int = 3
    initial_backoff_seconds: float = 0.1
    backoff_multiplier: float = 2.0
    max_backoff_seconds: float = 5.0
    jitter_ratio: float = 0.25
    retryable_status_codes: frozenset[int] = field(default_factory=_default_retryable_statuses)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False, repr=False)
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("backoff seconds must not be negative")
        if not 0 <= self.jitter_ratio <= 1:
            raise ValueError("jitter_ratio must be within [0, 1]")

    def should_retry_status(self, status_code: int) -> bool:
        """True when an HTTP answer with ``status_code`` is worth another attempt."""
        return status_code in self.retryable_status_codes

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (0 for the first retry)."""
        grown = self.initial_backoff_seconds * self.backoff_multiplier**retry_number
        base = min(grown, self.max_backoff_seconds)
        spread = (self.random() * 2.0 - 1.0) * self.jitter_ratio
        return max(0.0, base * (1.0 + spread))


DEFAULT_RETRY_POLICY = TransportRetryPolicy()
