"""``GET /api/cluster/info`` (control-plane.md §3.3): the manifest clients check before talking to us."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse

from ..settings import Settings
from . import contracts
from .envelope import respond
from .middleware import CLUSTER_INFO, RequestContext

router = APIRouter()
Ctx = Annotated[RequestContext, Depends(CLUSTER_INFO)]


@router.get("/cluster/info")
async def cluster_info(ctx: Ctx) -> JSONResponse:
    # The namespace is used for the fleet view but deliberately not validated here (§3.3).
    fleet = await ctx.engine.worker_fleet(ctx.namespace)
    return respond(ctx.request, cluster_info_body(ctx.settings, fleet))


def cluster_info_body(settings: Settings, worker_fleet: dict[str, Any]) -> dict[str, Any]:
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
