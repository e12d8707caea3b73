"""The server's ULIDs: valid, lower case, timestamped now, strictly increasing within a millisecond."""

from __future__ import annotations

import time

import pytest
from ulid import ULID

from durable_workflow_server.engine import ulids
from durable_workflow_server.engine.util import new_id, new_upper_id


def test_ids_are_ulids_of_now() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert len(made) == 26 and made == made.lower()
    parsed = ULID.from_str(made.upper())
    assert str(parsed).lower() == made
    assert before <= parsed.milliseconds <= after
    upper = new_upper_id()
    assert upper == upper.upper() and str(ULID.from_str(upper)) == upper


def test_ids_increase_strictly_and_within_a_millisecond_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    generator = ulids.Generator()
    made = [generator.new() for _ in range(5000)]
    assert made == sorted(made) and len(set(made)) == len(made)

    clock = iter([1_700_000_000_000_000_000] * 3 + [1_700_000_000_001_000_000])
    monkeypatch.setattr(ulids.time, "time_ns", lambda: next(clock))
    fixed = ulids.Generator()
    first, second, third, later = (ULID.from_str(fixed.new().upper()) for _ in range(4))
    assert first.milliseconds == second.milliseconds == third.milliseconds == 1_700_000_000_000
    assert int(second) == int(first) + 1 and int(third) == int(second) + 1
    assert later.milliseconds == 1_700_000_000_001


def test_a_millisecond_whose_randomness_is_spent_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ulids.time, "time_ns", lambda: 1_700_000_000_000_000_000)
    monkeypatch.setattr(ulids.os, "urandom", lambda n: b"\xff" * n)
    generator = ulids.Generator()
    assert generator.new().endswith("z" * 16)
    with pytest.raises(ValueError):
        generator.new()


def test_every_bit_is_encoded_where_ulid_puts_it() -> None:
    for value in (0, 1, 1023, 1 << 79, (1 << 80) - 1, 0x1234_5678_9ABC_DEF0_1234):
        for milliseconds in (0, 1, 1_700_000_000_123, (1 << 48) - 1):
            text = ulids._timestamp_text(milliseconds) + ulids._randomness_text(value)
            expected = ULID.from_bytes(milliseconds.to_bytes(6, "big") + value.to_bytes(10, "big"))
            assert text == str(expected).lower()
