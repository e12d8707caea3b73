"""The checks every fuzzed answer gets, and the headers every fuzzed request carries."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
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

# DW_FUZZ_STRICT=1: also require every schema-invalid request to be refused (a long-hunt mode;
# where the server is more lenient than its document, that is a finding to look at).
if os.environ.get("DW_FUZZ_STRICT"):
    CHECKS.append(negative_data_rejection)


def bounded(case: schemathesis.Case) -> None:
    """Cap the wait a fuzzed body asks for (``wait_timeout_seconds`` may be up to an hour): an
    update's wait for a worker is documented behaviour, not something to sit through."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("wait_timeout_seconds"), int):
        body["wait_timeout_seconds"] = min(body["wait_timeout_seconds"], 1)
