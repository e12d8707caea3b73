"""An envelope's encoded body is byte for byte what encoding the wrapped dict with json.dumps gives."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from durable_workflow.protocol import versions
from durable_workflow_server.http import contracts
from durable_workflow_server.http.envelope import Envelope
from durable_workflow_server.settings import Settings


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"task": None},
        {"task": {"task_id": "t1", "input": ["é", 1.5, True, None]}, "reason": "x"},
        {"protocol_version": "custom"},  # a key already there keeps its value and place
        {"server_capabilities": {}, "a": 1},
    ],
)
def test_worker_bodies_are_the_setdefault_text(body: dict[str, Any]) -> None:
    for settings in (Settings(), replace(Settings(), long_poll_timeout=7.5)):
        expected = dict(body)
        expected.setdefault("protocol_version", versions.WORKER_PROTOCOL_VERSION)
        expected.setdefault("server_capabilities", contracts.server_capabilities(settings))
        response = Envelope("worker").render(200, dict(body), settings)
        assert response.body == _dumps(expected)
        assert response.headers[versions.WORKER_PROTOCOL_HEADER] == versions.WORKER_PROTOCOL_VERSION
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-length"] == str(len(response.body))


def test_plain_and_control_bodies_are_the_dumps_text() -> None:
    body = {"message": "ünïcode", "n": [1, 2.25, None]}
    assert Envelope("plain").render(201, dict(body), Settings()).body == _dumps(body)
    control = Envelope("control").render(200, dict(body), Settings())
    assert control.body == _dumps(body) and control.status_code == 200
    with pytest.raises(ValueError):
        Envelope("plain").render(200, {"x": float("nan")}, Settings())  # allow_nan=False, as before
