"""ULIDs made for less than ``python-ulid``'s ``ULID()`` costs, with the same rules.

A ULID is 48 bits of Unix milliseconds then 80 random bits, written as 26 Crockford base32
characters. Within one millisecond each ULID is the previous one plus one (strictly monotonic,
as ``python-ulid``'s default generator; exhausting a millisecond's randomness raises), so ids
made in one process sort in the order they were made. The server makes a dozen per workflow:
``python-ulid`` builds a ``ULID`` object and encodes all 26 characters bit by bit, while here
the timestamp's ten characters are encoded once per millisecond and the randomness two
characters (ten bits) per table lookup.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case
_PAIRS = tuple(first + second for first in _ALPHABET for second in _ALPHABET)  # every 10 bits
_MAX_RANDOMNESS = (1 << 80) - 1


def _timestamp_text(milliseconds: int) -> str:
    return "".join(_ALPHABET[(milliseconds >> shift) & 31] for shift in range(45, -1, -5))


def _randomness_text(value: int) -> str:
    pairs = _PAIRS
    return (
        pairs[value >> 70]
        + pairs[(value >> 60) & 1023]
        + pairs[(value >> 50) & 1023]
        + pairs[(value >> 40) & 1023]
        + pairs[(value >> 30) & 1023]
        + pairs[(value >> 20) & 1023]
        + pairs[(value >> 10) & 1023]
        + pairs[value & 1023]
    )


class Generator:
    """Monotonic lower-case ULIDs; safe to share across threads (one lock per id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._milliseconds = -1
        self._timestamp = ""
        self._randomness = 0

    def new(self) -> str:
        milliseconds = time.time_ns() // 1_000_000
        with self._lock:
            if milliseconds == self._milliseconds:
                if self._randomness == _MAX_RANDOMNESS:
                    raise ValueError("Randomness within same millisecond exhausted")
                self._randomness += 1
            else:
                self._milliseconds = milliseconds
                self._timestamp = _timestamp_text(milliseconds)
                self._randomness = int.from_bytes(os.urandom(10), "big")
            return self._timestamp + _randomness_text(self._randomness)


#: The process's generator, behind :func:`.util.new_id` and :func:`.util.new_upper_id`.
default = Generator()
