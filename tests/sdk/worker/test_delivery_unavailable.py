"""Outcome delivery rides out a server that answers 503 (its database restarting) like an outage."""

from __future__ import annotations

import pytest

from durable_workflow.errors import ServerError
from durable_workflow.worker._delivery import SERVER_ERROR_RETRY_DELAYS, deliver
from durable_workflow.worker._runtime import DeliveryPolicy

FAST = DeliveryPolicy(retry_timeout=5.0, backoff=0.001, backoff_max=0.002)


def _failing(errors: list[ServerError]) -> tuple[list[int], object]:
    calls: list[int] = []

    async def send() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "delivered"

    return calls, send


def _answer(status: int, reason: str) -> ServerError:
    return ServerError(f"{status} {reason}", status_code=status, reason=reason)


async def test_503_database_unavailable_is_retried_past_the_5xx_budget() -> None:
    outage = [_answer(503, "database_unavailable") for _ in range(len(SERVER_ERROR_RETRY_DELAYS) + 5)]
    calls, send = _failing(outage)
    assert await deliver(FAST, send, "complete") == "delivered"  # type: ignore[arg-type]
    assert len(calls) == len(SERVER_ERROR_RETRY_DELAYS) + 6


@pytest.mark.parametrize(("status", "reason"), [(500, "server_error"), (503, "server_error")])
async def test_other_5xx_still_give_up_after_their_few_retries(status: int, reason: str) -> None:
    errors = [_answer(status, reason) for _ in range(10)]
    calls, send = _failing(errors)
    with pytest.raises(ServerError):
        await deliver(FAST, send, "complete")  # type: ignore[arg-type]
    assert len(calls) == len(SERVER_ERROR_RETRY_DELAYS) + 1


async def test_503_is_given_up_on_at_the_retry_timeout() -> None:
    policy = DeliveryPolicy(retry_timeout=0.0, backoff=0.001, backoff_max=0.002)
    errors = [_answer(503, "database_unavailable") for _ in range(50)]
    calls, send = _failing(errors)
    with pytest.raises(ServerError):
        await deliver(policy, send, "complete")  # type: ignore[arg-type]
    # Past the timeout a 503 falls back to the plain 5xx budget.
    assert len(calls) == len(SERVER_ERROR_RETRY_DELAYS) + 1
