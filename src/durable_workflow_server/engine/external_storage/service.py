"""The ``Engine`` mixin implementing :class:`.api.ExternalStorageAPI`."""

from __future__ import annotations

from ..core import EngineCore
from . import diagnostics
from . import policy as policies
from .api import StorageTestRequest
from .shapes import StorageTestBody


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
