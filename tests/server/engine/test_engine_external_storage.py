"""Server-side external payload storage in the engine: offloading over the namespace threshold,
the stored and wire forms, the ``external_payloads`` rows, rollback and retention."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
    ExternalPayloadReference,
    LocalFilesystemExternalStorage,
    store_external_blob,
)
from durable_workflow_server.engine import control
from durable_workflow_server.engine.api import StartWorkflowRequest
from durable_workflow_server.engine.errors import ValidationFailed
from durable_workflow_server.engine.external_storage import rows as payload_rows
from durable_workflow_server.engine.external_storage.retention import (
    delete_namespace_payloads,
    delete_run_payloads,
)
from durable_workflow_server.engine.external_storage.stored import to_stored
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.helpers.external_storage import blob_of, local_policy, object_text, set_policy, stored_files
from tests.server.conftest import EngineFactory
from tests.server.engine.engine_driver import NS, Driver, activity, complete

BIG = ["x" * 4000]  # its blob is well over the 1 KiB threshold of these tests
SMALL = ["Ada"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "payloads"


@pytest.fixture
async def offloading(engine: Engine, root: Path) -> Path:
    await set_policy(engine, NS, local_policy(root, threshold_bytes=1024))
    return root


async def payload_rows_of(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    async with engine._read() as tx:
        return list(await payload_rows.of_run(tx, run_id))


def reference_in(value: Any) -> dict[str, Any]:
    """The reference of an ``{codec, external_storage}`` envelope (asserting the form)."""
    assert isinstance(value, dict) and set(value) == {"codec", "external_storage"}, value
    reference = value["external_storage"]
    assert reference["schema"] == EXTERNAL_PAYLOAD_REFERENCE_SCHEMA
    assert reference["codec"] == value["codec"] == "avro"
    return reference  # type: ignore[no-any-return]


async def test_a_start_input_over_the_threshold_is_kept_as_a_reference(
    engine: Engine, driver: Driver, offloading: Path
) -> None:
    started = await driver.start("big-1", args=BIG)
    run_id = started["run_id"]

    described = await engine.describe_workflow(NS, "big-1")
    reference = reference_in(described["input_envelope"])
    assert described["input"] == described["input_envelope"]  # nothing to decode server-side
    blob = blob_of(BIG)
    assert reference["size_bytes"] == len(blob)
    assert reference["sha256"] == hashlib.sha256(blob.encode()).hexdigest()
    # The object holds the blob's text, exactly what the envelope would have carried inline.
    assert object_text(offloading, reference["uri"]) == blob
    [only] = stored_files(offloading)
    assert only.as_uri() == reference["uri"]

    history = await driver.history("big-1", run_id)
    started_event = next(e for e in history if e["event_type"] == "WorkflowStarted")
    assert reference_in(started_event["payload"]["arguments"]) == reference
    assert "x" * 100 not in str(history)  # history holds the reference, not the bytes

    task = await driver.poll_wf()
    assert task is not None
    assert reference_in(task["arguments"]) == reference
    rows = await payload_rows_of(engine, run_id)
    assert [(r["uri"], r["sha256"], r["size_bytes"], r["namespace"]) for r in rows] == [
        (reference["uri"], reference["sha256"], len(blob), NS)
    ]


async def test_payloads_at_or_under_the_threshold_stay_inline(
    engine: Engine, driver: Driver, root: Path
) -> None:
    blob = blob_of(SMALL)
    await set_policy(engine, NS, local_policy(root, threshold_bytes=len(blob)))
    started = await driver.start("small-1", args=SMALL)
    described = await engine.describe_workflow(NS, "small-1")
    assert described["input_envelope"] == {"codec": "avro", "blob": blob}
    assert described["input"] == SMALL
    assert stored_files(root) == []
    assert await payload_rows_of(engine, started["run_id"]) == []
    # One byte more is over it.
    await set_policy(engine, NS, local_policy(root, threshold_bytes=len(blob) - 1))
    await driver.start("small-2", args=SMALL)
    reference_in((await engine.describe_workflow(NS, "small-2"))["input_envelope"])


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(None, id="no policy"),
        pytest.param({"enabled": False}, id="disabled"),
        pytest.param({"threshold_bytes": None}, id="no threshold"),
        pytest.param({"driver": "gcs"}, id="a driver this server cannot build"),
    ],
)
async def test_without_a_usable_policy_payloads_stay_inline(
    engine: Engine, driver: Driver, root: Path, policy: dict[str, Any] | None
) -> None:
    if policy is not None:
        full = local_policy(root, threshold_bytes=1024)
        full.update(policy)
        if full.get("threshold_bytes") is None:
            full.pop("threshold_bytes")
        await set_policy(engine, NS, full)
    await driver.start("inline-1", args=BIG)
    described = await engine.describe_workflow(NS, "inline-1")
    assert described["input_envelope"] == codec.envelope(BIG)
    assert stored_files(root) == []


async def test_worker_results_and_arguments_over_the_threshold_are_offloaded(
    engine: Engine, driver: Driver, offloading: Path
) -> None:
    started = await driver.start("work-1", args=SMALL)
    run_id = started["run_id"]
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity(args=BIG)])
    act = await driver.poll_act()
    assert act is not None
    assert reference_in(act["arguments"])["size_bytes"] == len(blob_of(BIG))
    await driver.complete_act(act, {"report": "r" * 5000})
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete({"final": "f" * 5000})])

    history = await driver.history("work-1", run_id)
    by_type = {e["event_type"]: e["payload"] for e in history}
    activity_result = reference_in(by_type["ActivityCompleted"]["result"])
    output = reference_in(by_type["WorkflowCompleted"]["output"])
    assert object_text(offloading, activity_result["uri"]) == blob_of({"report": "r" * 5000})
    assert object_text(offloading, output["uri"]) == blob_of({"final": "f" * 5000})
    described = await engine.describe_workflow(NS, "work-1")
    assert reference_in(described["output_envelope"]) == output
    # Activity arguments, activity result, workflow output: three objects, all the run's.
    rows = await payload_rows_of(engine, run_id)
    assert len(rows) == 3 and len(stored_files(offloading)) == 3
    assert {r["uri"] for r in rows} == {f.as_uri() for f in stored_files(offloading)}


async def test_a_senders_reference_is_fetched_verified_and_stored_as_the_servers_own(
    engine: Engine, driver: Driver, offloading: Path, tmp_path: Path
) -> None:
    # The sender wrote the object itself, into the namespace's storage.
    blob = blob_of(BIG)
    sender = store_external_blob(LocalFilesystemExternalStorage(offloading), blob, codec="avro")
    reference = ExternalPayloadReference.from_dict(sender["external_storage"])
    request = StartWorkflowRequest(
        workflow_type="greeter",
        workflow_id="ref-1",
        task_queue="q1",
        input={"codec": "avro", "blob": to_stored(reference)},
    )
    started = await engine.start_workflow(NS, request)
    described = await engine.describe_workflow(NS, "ref-1")
    own = reference_in(described["input_envelope"])
    # Same bytes, another object: the server deletes what it wrote, never the sender's.
    assert (own["sha256"], own["size_bytes"]) == (reference.sha256, reference.size_bytes)
    assert own["uri"] != reference.uri
    assert [r["uri"] for r in await payload_rows_of(engine, started["run_id"])] == [own["uri"]]


async def test_a_senders_reference_under_the_threshold_becomes_an_inline_blob(
    engine: Engine, driver: Driver, root: Path
) -> None:
    await set_policy(engine, NS, local_policy(root, threshold_bytes=None))
    sender = store_external_blob(LocalFilesystemExternalStorage(root), blob_of(BIG), codec="avro")
    reference = ExternalPayloadReference.from_dict(sender["external_storage"])
    envelope = {"codec": "avro", "blob": to_stored(reference)}
    await engine.start_workflow(
        NS,
        StartWorkflowRequest(workflow_type="greeter", workflow_id="ref-2", task_queue="q1", input=envelope),
    )
    assert (await engine.describe_workflow(NS, "ref-2"))["input_envelope"] == codec.envelope(BIG)


def _mutate(path: Path) -> None:
    # Same length, one character changed (base64 text stays base64).
    text = path.read_text()
    swapped = "B" if text[10] != "B" else "C"
    path.write_text(text[:10] + swapped + text[11:])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(lambda p: p.unlink(), "missing", id="missing"),
        pytest.param(lambda p: p.write_text(p.read_text()[:-10]), "size_mismatch", id="truncated"),
        pytest.param(_mutate, "sha256_mismatch", id="mutated"),
    ],
)
async def test_a_damaged_senders_object_is_refused_and_nothing_is_written(
    engine: Engine, driver: Driver, offloading: Path, damage: Any, expected: str
) -> None:
    sender = store_external_blob(LocalFilesystemExternalStorage(offloading), blob_of(BIG), codec="avro")
    reference = ExternalPayloadReference.from_dict(sender["external_storage"])
    damage(LocalFilesystemExternalStorage(offloading).path_for(reference.uri))
    request = StartWorkflowRequest(
        workflow_type="greeter",
        workflow_id="ref-bad",
        task_queue="q1",
        input={"codec": "avro", "blob": to_stored(reference)},
    )
    with pytest.raises(ValidationFailed) as refused:
        await engine.start_workflow(NS, request)
    [message] = refused.value.errors["input.external_storage"]
    assert f"({expected})" in message
    async with engine._read() as tx:
        assert await tx.all(sa.select(t.workflow_runs)) == []
        assert await tx.all(sa.select(t.external_payloads)) == []


async def test_a_reference_without_a_configured_driver_is_refused(engine: Engine, driver: Driver) -> None:
    reference = ExternalPayloadReference(
        uri="file:///tmp/x.avro", sha256="0" * 64, size_bytes=1, codec="avro"
    )
    request = StartWorkflowRequest(
        workflow_type="greeter",
        workflow_id="ref-none",
        task_queue="q1",
        input={"codec": "avro", "blob": to_stored(reference)},
    )
    with pytest.raises(ValidationFailed) as refused:
        await engine.start_workflow(NS, request)
    assert "not configured" in refused.value.errors["input.external_storage"][0]


async def test_a_rolled_back_transaction_deletes_the_objects_it_wrote(
    engine: Engine, driver: Driver, offloading: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the run could not be created")

    monkeypatch.setattr(control, "create_run", broken)
    with pytest.raises(RuntimeError):
        await driver.start("rollback-1", args=BIG)
    assert stored_files(offloading) == []
    async with engine._read() as tx:
        assert await tx.all(sa.select(t.external_payloads)) == []


async def test_retention_deletes_an_object_with_the_last_run_referring_to_it(
    engine: Engine, driver: Driver, offloading: Path
) -> None:
    started = await driver.start("can-1", args=BIG)
    first = started["run_id"]
    task = await driver.poll_wf()
    assert task is not None
    # Continue as new without arguments: the new run starts with the same (offloaded) input.
    await driver.complete_wf(task, [{"type": "continue_as_new"}])
    second = (await engine.describe_workflow(NS, "can-1"))["run_id"]
    assert second != first
    [shared] = stored_files(offloading)
    assert [r["uri"] for r in await payload_rows_of(engine, second)] == [shared.as_uri()]

    async with engine._tx() as tx:
        assert await delete_run_payloads(tx, NS, first) == 0  # the second run still refers to it
    assert shared.exists()
    assert await payload_rows_of(engine, first) == []
    async with engine._tx() as tx:
        assert await delete_run_payloads(tx, NS, second) == 1
    assert stored_files(offloading) == []
    assert await payload_rows_of(engine, second) == []
    async with engine._tx() as tx:  # idempotent: nothing left to delete
        assert await delete_run_payloads(tx, NS, second) == 0


async def test_retention_keeps_the_objects_when_the_deleting_transaction_rolls_back(
    engine: Engine, driver: Driver, offloading: Path
) -> None:
    started = await driver.start("keep-1", args=BIG)
    with pytest.raises(RuntimeError):
        async with engine._tx() as tx:
            await delete_run_payloads(tx, NS, started["run_id"])
            raise RuntimeError("the retention pass failed after deleting the rows")
    assert len(stored_files(offloading)) == 1
    assert len(await payload_rows_of(engine, started["run_id"])) == 1


async def test_namespaces_do_not_share_storage(make_engine: EngineFactory, tmp_path: Path) -> None:
    # Two namespaces on the server's default directory: one subdirectory each.
    default_root = tmp_path / "default-root"
    engine = await make_engine(external_storage_dir=str(default_root))
    driver = Driver(engine)
    policy = {"driver": "local", "enabled": True, "threshold_bytes": 1024}
    await set_policy(engine, NS, policy)
    await set_policy(engine, "other", policy)
    await driver.start("iso-a", args=BIG)
    await engine.start_workflow(
        "other", StartWorkflowRequest(workflow_type="greeter", workflow_id="iso-b", input=codec.envelope(BIG))
    )
    a = reference_in((await engine.describe_workflow(NS, "iso-a"))["input_envelope"])
    b = reference_in((await engine.describe_workflow("other", "iso-b"))["input_envelope"])
    assert Path(a["uri"][len("file://") :]).is_relative_to(default_root / NS)
    assert Path(b["uri"][len("file://") :]).is_relative_to(default_root / "other")

    # A reference to namespace A's object is refused in namespace B (outside B's storage).
    request = StartWorkflowRequest(
        workflow_type="greeter",
        workflow_id="iso-steal",
        input={"codec": "avro", "blob": to_stored(ExternalPayloadReference.from_dict(a))},
    )
    with pytest.raises(ValidationFailed) as refused:
        await engine.start_workflow("other", request)
    assert "cannot be read from this namespace's storage" in refused.value.errors["input.external_storage"][0]


async def test_a_changed_policy_applies_to_the_next_payload(
    engine: Engine, driver: Driver, root: Path
) -> None:
    await set_policy(engine, NS, local_policy(root, threshold_bytes=None))
    await driver.start("p-1", args=BIG)  # caches "no threshold"
    await set_policy(engine, NS, local_policy(root, threshold_bytes=1024))
    await driver.start("p-2", args=BIG)
    assert (await engine.describe_workflow(NS, "p-1"))["input_envelope"] == codec.envelope(BIG)
    reference_in((await engine.describe_workflow(NS, "p-2"))["input_envelope"])


async def test_worker_references_are_fetched_verified_and_offloaded(
    engine: Engine, driver: Driver, offloading: Path
) -> None:
    await driver.start("wref-1", args=SMALL)
    task = await driver.poll_wf()
    assert task is not None
    # A worker that stored the activity arguments itself sends the reference.
    sent = store_external_blob(LocalFilesystemExternalStorage(offloading), blob_of(BIG), codec="avro")
    await driver.complete_wf(task, [{**activity(), "arguments": sent}])
    act = await driver.poll_act()
    assert act is not None
    own = reference_in(act["arguments"])
    assert (
        own["sha256"] == sent["external_storage"]["sha256"] and own["uri"] != sent["external_storage"]["uri"]
    )
    # ... and so does the activity's result.
    result = store_external_blob(
        LocalFilesystemExternalStorage(offloading), blob_of("done" * 1000), codec="avro"
    )
    await engine.complete_activity_task(
        NS,
        act["task_id"],
        activity_attempt_id=act["activity_attempt_id"],
        lease_owner=act["lease_owner"],
        result=result,
    )
    run_id = act["run_id"]
    history = await driver.history("wref-1", run_id)
    completed = next(e for e in history if e["event_type"] == "ActivityCompleted")
    assert reference_in(completed["payload"]["result"])["sha256"] == result["external_storage"]["sha256"]
    assert len(await payload_rows_of(engine, run_id)) == 2


async def test_a_workers_damaged_reference_is_refused_and_the_task_stays_leased(
    engine: Engine, driver: Driver, offloading: Path
) -> None:
    started = await driver.start("wref-2", args=SMALL)
    task = await driver.poll_wf()
    assert task is not None
    sent = store_external_blob(LocalFilesystemExternalStorage(offloading), blob_of(BIG), codec="avro")
    LocalFilesystemExternalStorage(offloading).path_for(sent["external_storage"]["uri"]).unlink()
    with pytest.raises(ValidationFailed) as refused:
        await driver.complete_wf(task, [{"type": "complete_workflow", "result": sent}])
    assert list(refused.value.errors) == ["commands.0.result.external_storage"]
    assert await driver.types("wref-2", started["run_id"]) == ["StartAccepted", "WorkflowStarted"]
    # A malformed reference is refused by validation, before anything is fetched.
    bad = {"codec": "avro", "external_storage": {**sent["external_storage"], "sha256": "nope"}}
    with pytest.raises(ValidationFailed) as refused:
        await driver.complete_wf(task, [{"type": "complete_workflow", "result": bad}])
    assert "commands.0.result.external_storage" in refused.value.errors


async def test_deleting_a_namespaces_payloads_leaves_other_namespaces_alone(
    engine: Engine, driver: Driver, offloading: Path, tmp_path: Path
) -> None:
    other_root = tmp_path / "other"
    await set_policy(engine, "other", local_policy(other_root, threshold_bytes=1024))
    await driver.start("ns-a", args=BIG)
    await engine.start_workflow(
        "other", StartWorkflowRequest(workflow_type="greeter", workflow_id="ns-b", input=codec.envelope(BIG))
    )
    async with engine._tx() as tx:
        assert await delete_namespace_payloads(tx, "other") == 1
    assert stored_files(other_root) == []
    assert len(stored_files(offloading)) == 1
    async with engine._read() as tx:
        left = await tx.all(sa.select(t.external_payloads.c.namespace))
    assert left == [{"namespace": NS}]


async def test_an_s3_policy_offloads_to_the_bucket_and_retention_empties_it(
    engine: Engine, driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("moto")
    from tests.helpers.s3_server import s3_client, s3_server

    # moto keeps one in-memory S3 per process (other tests' buckets too): a bucket of our own.
    bucket = f"dw-offload-test-{uuid.uuid4().hex[:12]}"
    with s3_server() as endpoint:
        s3 = s3_client(endpoint)
        s3.create_bucket(Bucket=bucket)
        for name, value in (
            ("ACCESS_KEY_ID", "testing"),
            ("SECRET_ACCESS_KEY", "testing"),
            ("ENDPOINT", endpoint),
        ):
            monkeypatch.setenv(f"DW_STORAGE_DISK_OBJECTS_{name}", value)
        config = {"disk": "objects", "bucket": bucket, "prefix": "billing", "region": "us-east-1"}
        await set_policy(
            engine, NS, {"driver": "s3", "enabled": True, "threshold_bytes": 1024, "config": config}
        )
        started = await driver.start("s3-1", args=BIG)
        stored = reference_in((await engine.describe_workflow(NS, "s3-1"))["input_envelope"])
        assert stored["uri"].startswith(f"s3://{bucket}/billing/")
        key = stored["uri"][len(f"s3://{bucket}/") :]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body.decode() == blob_of(BIG)
        async with engine._tx() as tx:
            assert await delete_run_payloads(tx, NS, started["run_id"]) == 1
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
