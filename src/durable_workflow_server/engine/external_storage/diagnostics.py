"""``POST /storage/test``: which driver a test uses (the §8.2 decision order) and the round trip."""

from __future__ import annotations

import hashlib
import hmac
import time

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.payload_storage import ExternalStorageDriver

from ..errors import DomainError
from .drivers import SERVED_DRIVERS, DriverUnavailable
from .policy import StoragePolicy
from .shapes import StoragePayloadTestBody
from .storage import PayloadStorage

# Without a policy of its own driver, a test can still exercise the server's default directory.
DIAGNOSABLE_WITHOUT_POLICY = ("local",)
TEST_CODEC = "avro"


def _refusal(reason: str, message: str, namespace: str, driver: str | None, **extra: object) -> DomainError:
    return DomainError(reason, message, status="failed", namespace=namespace, driver=driver, **extra)


def policy_under_test(namespace: str, policy: StoragePolicy | None, driver: str | None) -> StoragePolicy:
    """The policy whose driver the test builds; the §8.2 refusals in their order.

    1. no driver named and no policy → ``external_storage_not_configured``;
    2. the policy is disabled → ``external_storage_disabled``;
    3. another driver than the policy's → ``storage_driver_unavailable`` unless it is ``local``,
       which is tested in the server's default directory for the namespace.
    Whether the chosen driver can be built is step 4, :func:`build_test_driver`.
    """
    chosen = driver or (policy.driver if policy is not None else None)
    if chosen is None:
        raise _refusal(
            reasons.EXTERNAL_STORAGE_NOT_CONFIGURED,
            f"Namespace [{namespace}] has no external payload storage policy; name a driver or set one.",
            namespace,
            None,
        )
    if policy is not None and not policy.enabled:
        raise _refusal(
            reasons.EXTERNAL_STORAGE_DISABLED,
            f"External payload storage is disabled for namespace [{namespace}].",
            namespace,
            chosen,
        )
    if policy is None or chosen != policy.driver:
        if chosen not in DIAGNOSABLE_WITHOUT_POLICY:
            raise _refusal(
                reasons.STORAGE_DRIVER_UNAVAILABLE,
                f"The {chosen} driver is not the namespace's configured driver; only "
                f"{', '.join(DIAGNOSABLE_WITHOUT_POLICY)} can be tested without a policy of its own.",
                namespace,
                chosen,
                supported_diagnostic_drivers=list(DIAGNOSABLE_WITHOUT_POLICY),
            )
        return StoragePolicy(driver=chosen)
    return policy


def build_test_driver(
    payloads: PayloadStorage, namespace: str, policy: StoragePolicy
) -> ExternalStorageDriver:
    """Step 4: the driver, or ``storage_driver_unavailable`` naming the drivers this server builds."""
    try:
        return payloads.driver(namespace, policy)
    except DriverUnavailable as exc:
        raise _refusal(
            reasons.STORAGE_DRIVER_UNAVAILABLE,
            str(exc),
            namespace,
            policy.driver,
            supported_diagnostic_drivers=list(SERVED_DRIVERS),
        ) from exc


async def round_trip(
    driver: ExternalStorageDriver, namespace: str, size: int, fill: bytes
) -> StoragePayloadTestBody:
    """Write ``size`` bytes of ``fill``, read them back, compare, delete; 500 on any failure."""
    data = fill * size
    digest = hashlib.sha256(data).hexdigest()
    started = time.perf_counter()
    wrote = read = verified = deleted = False
    uri = ""
    try:
        reference = await PayloadStorage.put(driver, data, TEST_CODEC)
        uri, wrote = reference.uri, True
        back = await PayloadStorage.get(driver, uri)
        read = True
        verified = len(back) == size and hmac.compare_digest(hashlib.sha256(back).hexdigest(), digest)
    except Exception as exc:
        raise _failed(
            namespace, f"The {size}-byte test payload could not be stored and read back: {exc}"
        ) from exc
    finally:
        if wrote:
            try:
                await PayloadStorage.delete(driver, uri)
                deleted = True
            except Exception:  # reported through ``deleted`` (or the first failure)
                deleted = False
    if not verified:
        raise _failed(
            namespace, f"The {size}-byte test payload read back differs from what was written ({uri})."
        )
    return {
        "status": "passed",
        "bytes": size,
        "sha256": digest,
        "reference_uri": uri,
        "wrote": wrote,
        "read": read,
        "verified": verified,
        "deleted": deleted,
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def _failed(namespace: str, message: str) -> DomainError:
    return DomainError(reasons.SERVER_ERROR, message, status="failed", namespace=namespace)
