"""Resolving external-storage references in what the server sends (re-exported by ``_wire``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from .protocol.payload_storage import (
    STORED_REFERENCE_PREFIX,
    ExternalPayloadCache,
    ExternalStorageDriver,
    fetch_external_blob,
    is_external_storage_envelope,
    resolve_external_envelope,
    stored_reference,
)

__all__ = ["PayloadResolver", "holds_reference", "parse_resolving"]

_T = TypeVar("_T")


# Where payloads sit in what the server sends (control-plane.md §6.5, worker-plane.md §4.2 and
# §6.1). Only values at these positions are resolved: memo, search attributes and the decoded
# plain-JSON copies are user data, whatever their shape.
_ENVELOPE_KEYS = frozenset(
    {
        "input_envelope",
        "output_envelope",
        "result_envelope",
        "arguments",
        "workflow_arguments",
        "query_arguments",
    }
)
_EVENT_LIST_KEYS = frozenset({"events", "history_events", "history"})
_EVENT_PAYLOAD_KEYS = frozenset({"arguments", "input", "result", "output", "details"})


def _is_reference(value: object) -> bool:
    return is_external_storage_envelope(value) or (
        isinstance(value, str) and value.startswith(STORED_REFERENCE_PREFIX)
    )


def _map_event(event: object, fn: Callable[[object], object]) -> object:
    if not isinstance(event, Mapping) or not isinstance(event.get("payload"), Mapping):
        return event
    payload: Mapping[str, Any] = event["payload"]
    changed = {k: fn(v) for k, v in payload.items() if k in _EVENT_PAYLOAD_KEYS and _is_reference(v)}
    exception = payload.get("exception")
    if isinstance(exception, Mapping) and _is_reference(exception.get("details")):
        changed["exception"] = {**exception, "details": fn(exception["details"])}
    return {**event, "payload": {**payload, **changed}} if changed else event


def _map_events(events: list[Any], fn: Callable[[object], object]) -> list[Any]:
    mapped = [_map_event(event, fn) for event in events]
    return mapped if any(a is not b for a, b in zip(mapped, events, strict=True)) else events


def _map_payloads(body: object, fn: Callable[[object], object]) -> object:
    """``body`` with ``fn`` applied to each reference at a payload position (a copy if any)."""
    if isinstance(body, list):  # a bare event list (the replayer's input)
        return _map_events(body, fn)
    if not isinstance(body, Mapping):
        return body
    changed: dict[str, Any] = {}
    for key, value in body.items():
        if key in _ENVELOPE_KEYS and _is_reference(value):
            changed[key] = fn(value)
        elif key in _EVENT_LIST_KEYS and isinstance(value, list):
            events = _map_events(value, fn)
            if events is not value:
                changed[key] = events
        elif key == "action" and isinstance(value, Mapping) and _is_reference(value.get("input")):
            changed[key] = {**value, "input": fn(value["input"])}  # a schedule's action input
    return {**body, **changed} if changed else body


class PayloadResolver:
    """Replaces the external-storage references in a received body by the blobs they stand for.

    The one place the SDK resolves references: the client runs it over every control-plane
    answer, the task parsers of ``_wire`` over every leased task and history page, the replayer over
    the history it is given. Only payload positions are read (describe/query/update envelopes,
    task arguments, a schedule's action input, the blob-valued keys of history event payloads);
    memo, search attributes and decoded copies are user data and never touched. A reference is
    a ``{codec, external_storage}`` object (in an envelope's place, or in history in a blob's
    place) or the reference engine's ``dw-external-payload:v1:`` string; each is fetched and
    verified (``ExternalPayloadIntegrityError``) before use, and verified bytes are kept in
    ``cache`` so replaying the same history does not refetch them. What comes back has the
    same keys, with ``{codec, blob}`` envelopes where references were.
    """

    def __init__(self, driver: ExternalStorageDriver, cache: ExternalPayloadCache | None = None) -> None:
        self.driver = driver
        self.cache = cache

    def resolve(self, body: _T) -> _T:
        """``body`` with every reference resolved; ``body`` itself (not a copy) when it holds none.

        Raises:
            ExternalPayloadIntegrityError: A referenced object is missing, truncated or changed.
            ValueError: A ``{codec, external_storage}`` object is not a valid reference.
        """
        return cast("_T", _map_payloads(body, self._fetch))

    def must_fetch(self, body: object) -> bool:
        """Whether ``body`` may hold a reference (a compressed history page always may)."""
        if isinstance(body, Mapping) and body.get("history_events_compressed"):
            return True
        return holds_reference(body)

    async def resolve_async(self, body: _T) -> _T:
        """:meth:`resolve` on a worker thread (drivers block), or at once when nothing is stored."""
        if not holds_reference(body):
            return body
        return await asyncio.to_thread(self.resolve, body)

    def _fetch(self, value: object) -> object:
        if isinstance(value, Mapping):
            return resolve_external_envelope(value, self.driver, cache=self.cache)
        try:
            reference = stored_reference(value)
        except ValueError:
            return value  # not a reference after all: decoding the blob will say what it is
        if reference is None:
            return value
        return {
            "codec": reference.codec,
            "blob": fetch_external_blob(self.driver, reference, cache=self.cache),
        }


def holds_reference(value: object) -> bool:
    """Whether a received body holds an external-storage reference at a payload position."""
    found: list[object] = []

    def note(reference: object) -> object:
        found.append(reference)
        return reference

    _map_payloads(value, note)
    return bool(found)


async def parse_resolving(
    parse: Callable[..., _T], raw: Mapping[str, Any], resolver: PayloadResolver | None, **kwargs: Any
) -> _T:
    """``parse(raw, resolver=..., **kwargs)``: on a worker thread when payloads must be fetched.

    Drivers are blocking (file reads, boto3 calls); a task without references is parsed at once.
    """
    if resolver is None or not resolver.must_fetch(raw):
        return parse(raw, resolver=None, **kwargs)
    return await asyncio.to_thread(lambda: parse(raw, resolver=resolver, **kwargs))
