"""``GET /api/health`` and ``GET /api/ready``: no auth, plain JSON."""

from __future__ import annotations

import logging
from typing import Any

from durable_workflow.protocol import routes

from ..engine.shapes import ReadinessCheck, ReadinessChecks
from ..settings import AUTH_DRIVERS, Settings
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
    """Whether the configured auth driver can authenticate anyone at all.

    The rule is ``Settings.auth_problem``, which also stops ``create_app`` from building a
    server that could not (so a served app reports ``ok``; the other answers are for a caller
    that builds the check from settings it has not validated).
    """
    driver = settings.auth_driver_name
    problem = settings.auth_problem()
    if problem is None:
        return {"status": "ok", "driver": driver}
    if driver not in AUTH_DRIVERS:
        return {
            "status": "invalid",
            "driver": driver,
            "message": f"Unknown auth driver {driver!r}.",
            "remediation": "Set DW_AUTH_DRIVER to none, token or signature.",
        }
    return {
        "status": "missing",
        "driver": driver,
        "message": problem,
        "remediation": "Configure a credential for the driver, or set DW_AUTH_DRIVER=none.",
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
