"""The replayer reads histories whose payloads are external-storage references."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import ExternalPayloadIntegrityError, workflow
from durable_workflow.protocol.payload_storage import (
    ExternalPayloadCache,
    ExternalPayloadReference,
    LocalFilesystemExternalStorage,
    store_external_blob,
)
from durable_workflow.testing import Replayer, WorkflowEnvironment, replay_history
from durable_workflow.workflow import CompleteWorkflow

BIG = "q" * 3000


@workflow.defn(name="echo_big")
class EchoBig:
    def run(self, ctx: Any, text: str) -> Any:
        echoed = yield ctx.schedule_activity("echo", [text])
        return {"length": len(echoed)}


def _history_with_references(storage: LocalFilesystemExternalStorage) -> list[dict[str, Any]]:
    """A recorded history whose every blob over 1 KiB is replaced by a reference in its place."""
    env = WorkflowEnvironment()
    env.register_activity("echo", lambda text: text)
    assert env.execute_workflow(EchoBig, BIG) == {"length": 3000}
    history = copy.deepcopy(env.runs[0].history)
    replaced = 0
    for event in history:
        payload = event["payload"]
        for key in ("arguments", "result", "output"):
            value = payload.get(key)
            blob = value.get("blob") if isinstance(value, dict) else value
            if isinstance(blob, str) and len(blob) > 1024:
                payload[key] = dict(store_external_blob(storage, blob, codec="avro"))
                replaced += 1
    assert replaced >= 3  # the start input, the activity's arguments and its result
    return history


def test_replay_history_resolves_references(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    history = _history_with_references(storage)
    commands = replay_history(EchoBig, history, external_storage=storage)
    assert commands == [CompleteWorkflow({"length": 3000})]


def test_a_replayer_shares_its_cache_across_histories(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    history = _history_with_references(storage)
    cache = ExternalPayloadCache()
    replayer = Replayer(workflows=[EchoBig], external_storage=storage, external_storage_cache=cache)
    assert replayer.replay(history).commands == [CompleteWorkflow({"length": 3000})]
    entries = len(cache)
    assert entries >= 3
    assert replayer.replay(history).commands == [CompleteWorkflow({"length": 3000})]
    assert len(cache) == entries


def test_a_changed_object_fails_the_replay(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    history = _history_with_references(storage)
    started = next(e for e in history if e["event_type"] == "WorkflowStarted")
    reference = ExternalPayloadReference.from_dict(started["payload"]["arguments"]["external_storage"])
    storage.path_for(reference.uri).write_bytes(b"")
    with pytest.raises(ExternalPayloadIntegrityError, match="truncated"):
        replay_history(EchoBig, history, external_storage=storage)


def test_without_a_driver_the_replayer_says_what_is_missing(tmp_path: Path) -> None:
    history = _history_with_references(LocalFilesystemExternalStorage(tmp_path))
    with pytest.raises(ValueError, match="pass external_storage="):
        replay_history(EchoBig, history)
    with pytest.raises(ValueError, match="pass external_storage="):
        Replayer(workflows=[EchoBig]).replay(history)
