"""The one seam where a payload becomes a stored blob: :func:`accept`.

Every payload a caller or a worker hands the server passes through :func:`accept` inside the
transaction that stores it, at the place it first enters the engine: the start input, a
signal's or an update's arguments, a workflow task's commands (:func:`accept_commands`:
activity and child arguments, continue-as-new input, workflow and update results, side
effects) and an activity's result. From there the returned string is copied verbatim into rows
and history events, as any blob is.

``accept`` does two things:

* a reference the sender stored itself (``{codec, external_storage}``, carried here in its
  stored form, see :mod:`.stored`) is fetched through the namespace's driver and verified (size
  and SHA-256) — refused with 422 on ``<field>.external_storage`` when the namespace has no
  usable driver or the object is missing or changed — and its bytes become the blob;
* a blob larger than the namespace's ``threshold_bytes`` (its UTF-8 length, as the SDKs count
  it) is written through the driver as a new object, recorded for the run in
  ``external_payloads`` and replaced by its stored reference.

The server writes its own object even for a payload that arrived as a reference: it can then
delete what it wrote with the run (retention) without ever touching an object the sender owns.

Writes happen inside the transaction so that the row recording the object commits with the
history referring to it; a transaction that rolls back deletes the objects it wrote
(``EngineCore._tx`` calls :func:`discard_written`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.payload_storage import ExternalPayloadIntegrityError, stored_reference
from durable_workflow.protocol.wire import Envelope

from ..errors import DomainError, ValidationFailed
from ..transaction import Tx
from . import rows
from .drivers import DriverUnavailable
from .storage import PayloadStorage, WrittenObject
from .stored import is_stored, to_stored

log = logging.getLogger(__name__)

# Command keys holding a ``(codec, blob)`` pair after ``validation.validate_commands``.
COMMAND_PAYLOAD_KEYS = ("arguments", "result")


async def accept(tx: Tx, namespace: str, run_id: str, codec: str, blob: str, *, field: str) -> str:
    """The blob to store for a payload of ``run_id`` (see the module docstring)."""
    if is_stored(blob):
        blob = await resolve(tx, namespace, blob, field=field)
    payloads = tx.payloads
    if payloads is None:
        return blob
    policy = await payloads.policy(tx, namespace)
    if policy is None or not policy.offloads:
        return blob
    data = blob.encode("utf-8")
    assert policy.threshold_bytes is not None
    if len(data) <= policy.threshold_bytes:
        return blob
    try:
        driver = payloads.driver(namespace, policy)
    except DriverUnavailable as exc:
        # The policy could be stored but this server cannot act on it (gcs, azure, an s3
        # policy without boto3): keeping the payload inline loses nothing but history size.
        log.warning("namespace %s: payload kept inline, external storage unavailable: %s", namespace, exc)
        return blob
    reference = await PayloadStorage.put(driver, data, codec)
    tx.written_objects.append(WrittenObject(driver, reference.uri))
    await rows.record(tx, namespace, run_id, [reference])
    return to_stored(reference)


async def accept_commands(tx: Tx, namespace: str, run_id: str, commands: Sequence[dict[str, Any]]) -> None:
    """:func:`accept` every payload of validated workflow-task commands, in place."""
    for index, command in enumerate(commands):
        for key in COMMAND_PAYLOAD_KEYS:
            value = command.get(key)
            if isinstance(value, tuple) and len(value) == 2:
                codec, blob = value
                stored = await accept(tx, namespace, run_id, codec, blob, field=f"commands.{index}.{key}")
                command[key] = (codec, stored)


async def resolve_envelope(
    tx: Tx, namespace: str, envelope: Envelope | None, *, field: str
) -> Envelope | None:
    """``envelope`` with a sender's reference resolved (for arguments that are not stored: queries)."""
    if envelope is None or not is_stored(envelope["blob"]):
        return envelope
    return {"codec": envelope["codec"], "blob": await resolve(tx, namespace, envelope["blob"], field=field)}


def _refused(field: str, message: str) -> ValidationFailed:
    return ValidationFailed({f"{field}.external_storage": [message]})


async def resolve(
    tx: Tx, namespace: str, stored: str, *, field: str, advice: str = "; send the blob inline."
) -> str:
    """The verified blob a sender's reference stands for (422 when it cannot be had).

    ``advice`` ends the refusals of a namespace without usable storage (a sender may inline the
    payload; a reader of stored history may not).
    """
    try:
        reference = stored_reference(stored)
    except ValueError as exc:
        raise _refused(field, f"The {field} external storage reference is invalid: {exc}") from exc
    assert reference is not None
    payloads = tx.payloads
    policy = await payloads.policy(tx, namespace) if payloads is not None else None
    if payloads is None or policy is None:
        raise _refused(field, f"External payload storage is not configured for this namespace{advice}")
    if not policy.enabled:
        raise _refused(field, f"External payload storage is disabled for this namespace{advice}")
    try:
        driver = payloads.driver(namespace, policy)
    except DriverUnavailable as exc:
        raise _refused(field, str(exc)) from exc
    try:
        blob = await PayloadStorage.fetch(driver, reference)
    except ExternalPayloadIntegrityError as exc:
        raise _refused(
            field, f"The referenced payload failed its integrity check ({exc.kind}): {exc}"
        ) from exc
    except ValueError as exc:  # a URI outside the namespace's storage, bytes that are not text
        raise _refused(
            field, f"The referenced payload cannot be read from this namespace's storage: {exc}"
        ) from exc
    except OSError as exc:
        raise DomainError(
            reasons.STORAGE_DRIVER_UNAVAILABLE,
            f"External payload storage could not be read: {exc}",
            namespace=namespace,
            driver=policy.driver,
        ) from exc
    try:
        payload_codec.decode(blob, reference.codec)
    except payload_codec.PayloadCodecError as exc:
        raise _refused(
            field, f"The referenced payload is not a valid {reference.codec} payload: {exc}"
        ) from exc
    return blob


async def discard_written(objects: Sequence[WrittenObject]) -> None:
    """Delete objects a rolled-back transaction wrote (nothing refers to them)."""
    for written in objects:
        try:
            await PayloadStorage.delete(written.driver, written.uri)
        except Exception:  # best effort: the transaction's own error is the one to report
            log.warning("could not delete unreferenced external payload %s", written.uri, exc_info=True)
