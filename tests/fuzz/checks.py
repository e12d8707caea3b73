"""The checks every fuzzed answer gets, and the headers every fuzzed request carries."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.harness import ADMIN, NAMESPACE


def check_error_envelope(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> bool:
    """Every 4xx is the documented envelope: ``{"message": str, "reason": str, ...}``."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), f"{response.status_code} body is not an object: {body!r}"
        assert isinstance(body.get("reason"), str) and body["reason"], f"no reason: {body!r}"
        assert isinstance(body.get("message"), str), f"no message: {body!r}"
    return True


# A valid admin token and the namespace that exists; the version headers come from the document
# (required header parameters), so negative cases vary them too.
HEADERS = {"Authorization": f"Bearer {ADMIN}", "X-Namespace": NAMESPACE}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    check_error_envelope,
]
