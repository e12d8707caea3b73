"""Request models of the namespace routes (control-plane.md §8.1)."""

from __future__ import annotations

from typing import Annotated

from ...engine.namespaces.policy import DRIVERS
from ...settings import NAMESPACE_NAME, RETENTION_DAYS_MAX, RETENTION_DAYS_MIN
from .. import fields as f
from .. import limits
from . import RequestModel, WireObject

DESCRIPTION_MAX = 1000

Description = Annotated[str | None, f.Text(max_len=DESCRIPTION_MAX)]
RetentionDays = Annotated[int | None, f.Integer(minimum=RETENTION_DAYS_MIN, maximum=RETENTION_DAYS_MAX)]


class CreateNamespaceBody(RequestModel):
    """``POST /namespaces``: ``retention_days`` null or absent takes ``DW_HISTORY_RETENTION_DAYS``."""

    name: Annotated[str, f.Text(required=True, max_len=limits.NAMESPACE_LENGTH, pattern=NAMESPACE_NAME)]
    description: Description = None
    retention_days: RetentionDays = None


class UpdateNamespaceBody(RequestModel):
    """``PUT /namespaces/{namespace}``: only the fields given change (``null`` is "not given")."""

    description: Description = None
    retention_days: RetentionDays = None


class ExternalStorageConfig(WireObject):
    """The policy's ``config``: the keys the server reads are checked; other keys pass through."""

    uri: Annotated[str | None, f.Text(max_len=2048)] = None
    bucket: Annotated[str | None, f.Text(max_len=255)] = None
    disk: Annotated[str | None, f.Text(max_len=255)] = None
    prefix: Annotated[str | None, f.Text(max_len=1024)] = None
    region: Annotated[str | None, f.Text(max_len=128)] = None
    endpoint: Annotated[str | None, f.Text(max_len=2048)] = None
    auth_profile: Annotated[str | None, f.Text(max_len=255)] = None


class SetExternalStorageBody(RequestModel):
    """``PUT /namespaces/{namespace}/external-storage``: the policy, replacing any previous one."""

    driver: Annotated[str, f.Text(required=True, choices=DRIVERS)]
    enabled: f.Boolean = None
    threshold_bytes: Annotated[int | None, f.Integer(minimum=1)] = None
    config: ExternalStorageConfig | None = None


__all__ = [
    "CreateNamespaceBody",
    "ExternalStorageConfig",
    "SetExternalStorageBody",
    "UpdateNamespaceBody",
]
