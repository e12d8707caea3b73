"""Search attributes (control-plane.md §8.8): the typed registry of the request's namespace.

``GET`` lists the system and custom attributes, ``POST`` registers a custom one (201; 409
``name_reserved`` / ``attribute_already_exists``, 422 ``search_attribute_limit_reached`` or a
field error), ``DELETE`` removes a custom one (409 ``system_attribute``, 404
``attribute_not_found``).
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes

from .models.search_attributes import CreateSearchAttributeBody
from .routing import Call, Operation, Reply, copy_reply, engine_call


async def list_search_attributes(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.list_search_attributes(call.namespace)))


async def create_search_attribute(call: Call[CreateSearchAttributeBody]) -> Reply:
    body = call.input
    created = await engine_call(call.engine.create_search_attribute(call.namespace, body.name, body.type))
    return copy_reply(created, 201)


async def delete_search_attribute(call: Call[Any]) -> Reply:
    return copy_reply(
        await engine_call(call.engine.delete_search_attribute(call.namespace, call.path["name"]))
    )


OPERATIONS: list[Operation] = [
    Operation(
        "GET",
        routes.SEARCH_ATTRIBUTES,
        "list_search_attributes",
        list_search_attributes,
        summary="List the namespace's system and custom search attributes.",
    ),
    Operation(
        "POST",
        routes.SEARCH_ATTRIBUTES,
        "create_search_attribute",
        create_search_attribute,
        body=CreateSearchAttributeBody,
        summary="Register a custom search attribute with its type.",
        responses=(201, 409),
    ),
    Operation(
        "DELETE",
        routes.SEARCH_ATTRIBUTE,
        "delete_search_attribute",
        delete_search_attribute,
        summary="Remove a custom search attribute.",
        responses=(200, 404, 409),
    ),
]
