"""``guards.RequestHeaders`` answers as Starlette's ``Headers`` does, and ``limits.parse_json``
reads every encoding ``json.loads`` reads (its UTF-8 shortcut included)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.datastructures import Headers

from durable_workflow_server.http.guards import RequestHeaders
from durable_workflow_server.http.limits import parse_json

RAW = [
    (b"host", b"x"),
    (b"authorization", b"Bearer one"),
    (b"x-namespace", b"First"),
    (b"x-namespace", b"second"),
    (b"content-length", b"2"),
    (b"x-empty", b""),
]


def both() -> tuple[Headers, RequestHeaders]:
    return Headers(scope={"headers": list(RAW)}), RequestHeaders({"headers": list(RAW)})


@pytest.mark.parametrize(
    "name", ["host", "Authorization", "X-NAMESPACE", "x-empty", "missing", "content-length"]
)
def test_lookups_answer_as_starlette_headers(name: str) -> None:
    plain, fast = both()
    assert fast.get(name) == plain.get(name)
    assert fast.get(name, "default") == plain.get(name, "default")
    assert (name in fast) == (name in plain)
    assert fast.getlist(name) == plain.getlist(name)
    try:
        expected: Any = plain[name]
    except KeyError:
        with pytest.raises(KeyError):
            fast[name]
    else:
        assert fast[name] == expected


def test_the_rest_of_the_mapping_is_starlette_headers() -> None:
    plain, fast = both()
    assert fast.raw == plain.raw and fast.items() == plain.items() and len(fast) == len(plain)
    assert fast == plain


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]
)
@pytest.mark.parametrize("text", ['{"a": "é", "b": [1, 2.5]}', "{}", '{"k":"\\u00e9"}'])
def test_a_body_reads_as_json_loads_reads_it(encoding: str, text: str) -> None:
    raw = text.encode(encoding)
    assert parse_json(raw) == json.loads(raw)


def test_a_body_that_is_not_utf8_is_refused_as_json_loads_refuses_it() -> None:
    raw = b'{"a": "\xff"}'
    with pytest.raises(UnicodeDecodeError):
        json.loads(raw)
    with pytest.raises(UnicodeDecodeError):
        parse_json(raw)
