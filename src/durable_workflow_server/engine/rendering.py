"""Defence in depth for reads: stored values that cannot be rendered as JSON.

Requests carrying ``NaN``/``Infinity`` or unpaired surrogates are refused at the door, but rows
written by an older build (or by hand) may still hold them: SQLite keeps JSON as text and
Python's JSON reader turns ``NaN`` back into a float and ``"\\udcff"`` back into a lone
surrogate, neither of which a JSON response can carry. Reads check the values that come from
JSON columns or decoded payloads before answering, so such a row is reported by name instead of
failing the whole response with a bare 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from durable_workflow.protocol import errors as reasons

from .errors import DomainError

log = logging.getLogger(__name__)


# What ``json.dumps(value, allow_nan=False, ensure_ascii=False)`` runs, built once: ``dumps`` with
# options builds a new encoder per call, which cost more than encoding most payloads.
_strict = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def renderable(value: Any) -> bool:
    """Whether ``value`` can be sent as strict JSON in UTF-8."""
    try:
        _strict(value).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError):
        return False
    return True


def bad_fields(body: Mapping[str, Any], fields: Sequence[str]) -> list[str]:
    """Which of ``fields`` of ``body`` cannot be rendered.

    One encoding of them all answers the common case (all renderable); only a failure looks at
    each field to name the bad ones.
    """
    if renderable([body.get(name) for name in fields]):
        return []
    return [name for name in fields if not renderable(body.get(name))]


def bad_events(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """``history event N`` for each event whose stored payload cannot be rendered.

    The payload is the only part of an event read back from JSON; the rest is columns.
    """
    events = list(events)
    # One encoding of every payload answers the common case (all renderable), as in bad_fields.
    if renderable([event["payload"] for event in events]):
        return []
    return [f"history event {event['sequence']}" for event in events if not renderable(event["payload"])]


def log_unrenderable(workflow_id: str, run_id: str, what: list[str]) -> None:
    log.warning("workflow run %s/%s has stored values that cannot be rendered: %s", workflow_id, run_id, what)


def unrenderable_run(workflow_id: str, run_id: str, what: list[str]) -> DomainError:
    """The error a describe / history read answers for a run with unrenderable stored values."""
    log_unrenderable(workflow_id, run_id, what)
    return DomainError(
        reasons.SERVER_ERROR,
        f"Workflow run [{run_id}] has stored data that cannot be rendered as JSON ({', '.join(what)}).",
        workflow_id=workflow_id,
        run_id=run_id,
        unrenderable_fields=what,
    )
