"""Tenancy: a namespace-bound credential (``DW_NAMESPACE_TOKENS``) may name only its namespaces.

The check is a guard of its own, right after the role check (both answer ``403 forbidden``),
and before the version header and the namespace lookup: a bound credential gets the same answer
whether the other namespace exists or not, so it cannot probe other tenants' namespaces.
"""

from __future__ import annotations

from typing import Literal

from starlette.types import Scope

from durable_workflow.protocol import errors as reasons

from ..settings import Settings
from .errors import ApiError
from .guards import Principal, resolve_namespace, state_of

# Where a route names the namespace it acts in, for the tenancy check of a bound credential:
# ``header``: X-Namespace (else ?namespace=, else the default), what every scoped route uses;
# ``path``: the ``{namespace}`` of /namespaces/{namespace}...; ``body``: the ``name`` of the body
# (creating a namespace); ``listing``: none, the answer is filtered instead (GET /namespaces).
Tenancy = Literal["header", "path", "body", "listing"]


def target_namespace(scope: Scope, tenancy: Tenancy, settings: Settings) -> str | None:
    """The namespace a request acts in (lower-cased), or ``None`` when it names none."""
    if tenancy == "header":
        return resolve_namespace(scope, settings)
    if tenancy == "path":
        value = scope.get("path_params", {}).get("namespace")
        return value.strip().lower() if isinstance(value, str) else None
    if tenancy == "body":
        body = state_of(scope).body
        name = body.get("name") if isinstance(body, dict) else None
        # A missing or malformed name is the request model's 422; no namespace is named.
        return name.strip().lower() if isinstance(name, str) and name.strip() else None
    return None


def authorize_namespace(principal: Principal, namespace: str | None) -> None:
    """403 when a namespace-bound credential names a namespace outside its set.

    Asked before the namespace is looked up, so the answer is the same whether that namespace
    exists or not: a bound credential cannot probe other tenants' namespaces.
    """
    if namespace is None or principal.may_use(namespace):
        return
    raise ApiError(
        403,
        reasons.FORBIDDEN,
        f"Forbidden: this credential is bound to other namespaces and may not use namespace '{namespace}'.",
        namespace=namespace,
        allowed_namespaces=sorted(principal.namespaces or ()),
    )
