"""Text that can cross the wire: every string sent must be encodable as UTF-8.

Python strings may hold lone surrogates (``"\\udcff"``): ``os.fsdecode`` produces them for a
file name that is not valid UTF-8, and an exception message that quotes such a name carries
them on. They cannot be encoded as UTF-8, so a body holding one cannot be sent at all. Free
text the SDK reports (failure messages, exception types, stack traces) is therefore passed
through :func:`replace_surrogates` first: the offending characters become U+FFFD and the rest of
the message survives.
"""

from __future__ import annotations

import re

REPLACEMENT_CHARACTER = "\ufffd"

_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (unchanged, and cheap, when none)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT_CHARACTER, text)
    return text


def replace_surrogates_or_none(text: str | None) -> str | None:
    """:func:`replace_surrogates` for optional fields."""
    return None if text is None else replace_surrogates(text)
