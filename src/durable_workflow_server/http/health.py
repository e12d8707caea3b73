"""``GET /api/health`` and ``GET /api/ready``: no auth, plain JSON."""

from __future__ import annotations

import logging
from typing import Any

from durable_workflow.protocol import routes

from ..engine.shapes import ReadinessCheck, ReadinessChecks
from ..settings import Settings
from .routing import Call, Operation, Reply

logger = logging.getLogger("durable_workflow_server")


def _timestamp(settings: Settings) -> str:
    return settings.clock().replace(microsecond=0).isoformat()


async def health(call: Call[Any]) -> Reply:
    try:
        ok = await call.engine.database_ok()
    except Exception:  # a broken database is a health answer, not a server error
        logger.exception("health check: database probe failed")
        ok = False
    body = {
        "status": "serving" if ok else "degraded",
        "timestamp": _timestamp(call.settings),
        "checks": {"database": "ok" if ok else "unavailable"},
    }
    return Reply(body, 200 if ok else 503)


async def ready(call: Call[Any]) -> Reply:
    checks: ReadinessChecks
    try:
        checks = dict(await call.engine.readiness_checks())
    except Exception as exc:
        logger.exception("readiness check failed")
        checks = {
            "database": {"status": "unavailable", "message": str(exc) or type(exc).__name__},
            "migrations": {"status": "unavailable"},
            "default_namespace": {"status": "unavailable", "namespace": call.settings.default_namespace},
        }
    # The server keeps its wake-ups and caches in process memory, so there is nothing to probe.
    checks["cache"] = {"status": "ok", "store": "memory"}
    checks["auth"] = auth_readiness(call.settings)
    is_ready = all(isinstance(check, dict) and check.get("status") == "ok" for check in checks.values())
    body = {
        "status": "ready" if is_ready else "not_ready",
        "timestamp": _timestamp(call.settings),
        "checks": checks,
    }
    return Reply(body, 200 if is_ready else 503)


def auth_readiness(settings: Settings) -> ReadinessCheck:
    """Whether the configured auth driver can authenticate anyone at all."""
    driver = (settings.auth_driver or "token").strip().lower()
    if driver == "none":
        return {"status": "ok", "driver": driver}
    if driver == "token":
        has_role = any((settings.worker_token, settings.operator_token, settings.admin_token))
        has_legacy = bool(settings.auth_token) and settings.auth_backward_compatible
        if has_role or has_legacy:
            return {"status": "ok", "driver": driver}
        return {
            "status": "missing",
            "driver": driver,
            "message": "No bearer token is configured.",
            "remediation": "Set DW_AUTH_TOKEN, or DW_WORKER_TOKEN / DW_OPERATOR_TOKEN / DW_ADMIN_TOKEN.",
        }
    if driver == "signature":
        keys = ("signature_key", "worker_signature_key", "operator_signature_key", "admin_signature_key")
        if any(getattr(settings, key, None) for key in keys):
            return {"status": "ok", "driver": driver}
        return {
            "status": "missing",
            "driver": driver,
            "message": "No signature key is configured.",
            "remediation": "Configure a signature key or use the token driver.",
        }
    return {
        "status": "invalid",
        "driver": driver,
        "message": f"Unknown auth driver {driver!r}.",
        "remediation": "Set DW_AUTH_DRIVER to none, token or signature.",
    }


OPERATIONS: list[Operation] = [
    Operation(
        "GET",
        routes.HEALTH,
        "health",
        health,
        summary="Liveness and database reachability.",
        responses=(200, 503),
    ),
    Operation(
        "GET",
        routes.READY,
        "ready",
        ready,
        summary="Readiness: database, migrations, auth.",
        responses=(200, 503),
    ),
]
