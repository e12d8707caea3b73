"""The external payload storage policy as persisted (control-plane.md §8.1.5).

The HTTP layer has checked the shape (driver one of the four, ``threshold_bytes`` >= 1, the
known ``config`` keys strings within their lengths); what is stored is normalised here, so the
policy read back is the same whichever way an equivalent request spelled it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .api import ExternalStoragePolicyRequest
from .shapes import StoragePolicy

DRIVERS = ("local", "s3", "gcs", "azure")


def normalise(request: ExternalStoragePolicyRequest) -> StoragePolicy:
    """The policy to persist: ``threshold_bytes`` only when given, ``config`` only when non-empty.

    Config entries whose value is ``null`` or ``""`` mean "not set" and are dropped; other keys
    than the validated ones pass through unchanged (drivers may read them).
    """
    policy: StoragePolicy = {"driver": request.driver, "enabled": request.enabled}
    if request.threshold_bytes is not None:
        policy["threshold_bytes"] = request.threshold_bytes
    config = {key: value for key, value in request.config.items() if value is not None and value != ""}
    if config:
        policy["config"] = config
    return policy


def stored(value: Any) -> StoragePolicy | None:
    """The policy read from the JSON column (``None`` when the namespace has none)."""
    if not isinstance(value, Mapping) or not isinstance(value.get("driver"), str):
        return None
    policy: StoragePolicy = {"driver": value["driver"], "enabled": bool(value.get("enabled", True))}
    threshold = value.get("threshold_bytes")
    if isinstance(threshold, int) and not isinstance(threshold, bool):
        policy["threshold_bytes"] = threshold
    config = value.get("config")
    if isinstance(config, Mapping) and config:
        policy["config"] = dict(config)
    return policy
