"""Namespaces and their external-storage policy (control-plane.md §8.1, §9.1).

The namespace routes name their namespace in the path (or, creating one, in the body), so
``X-Namespace`` need not exist and is not what a namespace-bound credential is checked against:
``tenancy`` says where each route names its namespace. Listing answers only the namespaces the
caller's credential may use.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes

from ..engine.namespaces.api import (
    CreateNamespaceRequest,
    ExternalStoragePolicyRequest,
    UpdateNamespaceRequest,
)
from . import guards
from .models.namespaces import CreateNamespaceBody, SetExternalStorageBody, UpdateNamespaceBody
from .routing import Call, Operation, Reply, copy_reply, engine_call


def _name(call: Call[Any]) -> str:
    return call.path["namespace"].strip().lower()


async def list_namespaces(call: Call[Any]) -> Reply:
    visible = call.principal.namespaces if call.principal is not None else None
    return copy_reply(await engine_call(call.engine.list_namespaces(visible)))


async def create_namespace(call: Call[CreateNamespaceBody]) -> Reply:
    body = call.input
    request = CreateNamespaceRequest(body.name, body.description, body.retention_days)
    return copy_reply(await engine_call(call.engine.create_namespace(request)), 201)


async def describe_namespace(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.describe_namespace(_name(call))))


async def update_namespace(call: Call[UpdateNamespaceBody]) -> Reply:
    request = UpdateNamespaceRequest(call.input.description, call.input.retention_days)
    return copy_reply(await engine_call(call.engine.update_namespace(_name(call), request)))


async def delete_namespace(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.delete_namespace(_name(call))))


async def set_namespace_external_storage(call: Call[SetExternalStorageBody]) -> Reply:
    body = call.input
    request = ExternalStoragePolicyRequest(
        driver=body.driver,
        enabled=True if body.enabled is None else body.enabled,
        threshold_bytes=body.threshold_bytes,
        config=body.config.wire() if body.config is not None else {},
    )
    return copy_reply(await engine_call(call.engine.set_namespace_external_storage(_name(call), request)))


_ADMIN = guards.ADMIN_ROLES
OPERATIONS: list[Operation] = [
    Operation(
        "GET",
        routes.NAMESPACES,
        "list_namespaces",
        list_namespaces,
        summary="List the namespaces (those the credential may use).",
        namespace_must_exist=False,
        tenancy="listing",
    ),
    Operation(
        "POST",
        routes.NAMESPACES,
        "create_namespace",
        create_namespace,
        body=CreateNamespaceBody,
        summary="Create a namespace.",
        responses=(201, 409),
        roles=_ADMIN,
        namespace_must_exist=False,
        tenancy="body",
    ),
    Operation(
        "GET",
        routes.NAMESPACE,
        "describe_namespace",
        describe_namespace,
        summary="Describe a namespace, with its external-storage policy.",
        responses=(200, 404),
        namespace_must_exist=False,
        tenancy="path",
    ),
    Operation(
        "PUT",
        routes.NAMESPACE,
        "update_namespace",
        update_namespace,
        body=UpdateNamespaceBody,
        summary="Change a namespace's description or retention (only the fields given).",
        responses=(200, 404),
        roles=_ADMIN,
        namespace_must_exist=False,
        tenancy="path",
    ),
    Operation(
        "DELETE",
        routes.NAMESPACE,
        "delete_namespace",
        delete_namespace,
        summary="Delete a namespace and everything in it (runs, schedules, workers, ...).",
        responses=(200, 404),
        roles=_ADMIN,
        namespace_must_exist=False,
        tenancy="path",
    ),
    Operation(
        "PUT",
        routes.NAMESPACE_EXTERNAL_STORAGE,
        "set_namespace_external_storage",
        set_namespace_external_storage,
        body=SetExternalStorageBody,
        summary="Replace a namespace's external payload storage policy.",
        responses=(200, 404),
        roles=_ADMIN,
        namespace_must_exist=False,
        tenancy="path",
    ),
]
