"""The ``Engine`` mixin implementing :class:`.api.ExternalStorageAPI`."""

from __future__ import annotations

from durable_workflow.protocol.payload_storage import ExternalStorageEnvelope, reference_from_envelope
from durable_workflow.protocol.wire import Envelope

from ..core import EngineCore
from ..errors import ValidationFailed
from . import diagnostics, offloading
from . import policy as policies
from .api import StorageTestRequest
from .shapes import StorageTestBody
from .stored import to_stored

_RESOLVED_FIELD = "payload"


class ExternalStorageCommands(EngineCore):
    """Server-side external payload storage: drivers, offloading over the threshold, the storage test."""

    async def test_external_storage(self, namespace: str, request: StorageTestRequest) -> StorageTestBody:
        # Read the policy afresh (not the offloading cache): an operator tests what is stored now.
        async with self._read() as tx:
            stored = await policies.load(tx, namespace)
        policy = diagnostics.policy_under_test(namespace, stored, request.driver)
        driver = diagnostics.build_test_driver(self.payloads, namespace, policy)
        small = await diagnostics.round_trip(driver, namespace, request.small_payload_bytes, b"s")
        large = await diagnostics.round_trip(driver, namespace, request.large_payload_bytes, b"l")
        return {
            "status": "passed",
            "namespace": namespace,
            "driver": policy.driver,
            "small_payload": small,
            "large_payload": large,
        }

    async def resolve_external_payload(self, namespace: str, envelope: ExternalStorageEnvelope) -> Envelope:
        try:
            reference = reference_from_envelope(envelope)
        except ValueError as exc:
            message = f"The external storage reference is invalid: {exc}"
            raise ValidationFailed({f"{_RESOLVED_FIELD}.external_storage": [message]}) from exc
        async with self._read() as tx:
            blob = await offloading.resolve(
                tx, namespace, to_stored(reference), field=_RESOLVED_FIELD, advice="."
            )
        return {"codec": reference.codec, "blob": blob}
