"""``GET /api/cluster/info``: the manifest clients check before talking to us."""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes

from ..engine.shapes import WorkerFleet
from ..settings import Settings
from . import contracts
from .routing import Call, Operation, Reply


async def cluster_info(call: Call[Any]) -> Reply:
    # The namespace is used for the fleet view but deliberately not required to exist.
    fleet = await call.engine.worker_fleet(call.namespace)
    return Reply(cluster_info_body(call.settings, fleet))


def cluster_info_body(settings: Settings, worker_fleet: WorkerFleet) -> dict[str, Any]:
    """The full ``/cluster/info`` document."""
    return {
        "server_id": settings.server_id,
        "version": settings.version,
        "default_namespace": settings.default_namespace,
        "supported_sdk_versions": {"php": ">=1.0", "python": ">=0.2,<1.0", "cli": ">=0.1,<1.0"},
        "capabilities": contracts.capabilities(settings),
        "worker_fleet": worker_fleet,
        "task_repair": contracts.task_repair(),
        "limits": contracts.limits(settings),
        "structural_limits": contracts.structural_limits(settings),
        "client_compatibility": contracts.client_compatibility(),
        "auth_composition_contract": contracts.auth_composition_contract(),
        "control_plane": contracts.control_plane_manifest(),
        "worker_protocol": contracts.worker_protocol(settings),
        "bridge_adapter_outcome_contract": contracts.bridge_adapter_outcome_contract(),
    }


OPERATIONS: list[Operation] = [
    Operation(
        "GET",
        routes.CLUSTER_INFO,
        "cluster_info",
        cluster_info,
        summary="The server's manifest: versions, capabilities, limits, worker fleet.",
    ),
]
