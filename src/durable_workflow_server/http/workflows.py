"""Control-plane workflow routes (control-plane.md §8.3): start, list, describe, runs, history."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse

from ..engine.api import StartWorkflowRequest
from ..engine.errors import DomainError
from . import contracts
from .envelope import respond
from .errors import ApiError
from .middleware import CONTROL_PLANE, RequestContext
from .validation import Fields, normalize_arguments, parse_bool

router = APIRouter()
Ctx = Annotated[RequestContext, Depends(CONTROL_PLANE)]

WORKFLOW_ID_PATTERN = re.compile(r"[a-zA-Z0-9._:-]+")
SEARCH_ATTRIBUTE_KEY_PATTERN = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
MAX_SEARCH_ATTRIBUTE_KEY_BYTES = 128
MAX_SEARCH_ATTRIBUTE_VALUE_BYTES = 2048
LIST_PAGE_SIZE_DEFAULT, LIST_PAGE_SIZE_MAX = 50, 200
HISTORY_PAGE_SIZE_DEFAULT, HISTORY_PAGE_SIZE_MAX = 100, 1000


async def _call(coro: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await coro
    except DomainError as exc:
        raise ApiError.from_domain(exc) from exc
    return dict(result)


# ---------------------------------------------------------------------- start


def parse_start(body: Any, max_memo_bytes: int) -> StartWorkflowRequest:
    """Validate a ``POST /workflows`` body (control-plane.md §8.3.2); raises the 422 envelope."""
    fields = Fields(body)
    fields.forbid(*contracts.START_UNSUPPORTED_FIELDS)
    workflow_id = fields.string("workflow_id", max_len=128, pattern=WORKFLOW_ID_PATTERN)
    workflow_type = fields.string("workflow_type", required=True, max_len=255)
    task_queue = fields.string("task_queue", max_len=255)
    business_key = fields.string("business_key", max_len=255)
    duplicate_policy = _duplicate_policy(fields)
    execution_timeout = fields.integer("execution_timeout_seconds", minimum=1)
    run_timeout = fields.integer("run_timeout_seconds", minimum=1)
    memo = _memo(fields, max_memo_bytes)
    search_attributes = _search_attributes(fields)
    arguments = normalize_arguments(fields, "input")
    fields.check()
    assert workflow_type is not None and arguments is not None  # guaranteed by check()
    return StartWorkflowRequest(
        workflow_type=workflow_type,
        input=arguments,
        workflow_id=workflow_id,
        task_queue=task_queue,
        business_key=business_key,
        memo=memo,
        search_attributes=search_attributes,
        duplicate_policy=duplicate_policy or "fail",
        execution_timeout_seconds=execution_timeout,
        run_timeout_seconds=run_timeout,
    )


def _duplicate_policy(fields: Fields) -> str | None:
    value = fields.raw("duplicate_policy")
    if isinstance(value, str) and value in contracts.DUPLICATE_POLICY_ALIASES:
        canonical = contracts.DUPLICATE_POLICY_ALIASES[value]
        fields.add("duplicate_policy", f"The duplicate policy '{value}' is not canonical; use '{canonical}'.")
        return None
    return fields.string("duplicate_policy", choices=contracts.DUPLICATE_POLICIES)


def _memo(fields: Fields, limit: int) -> dict[str, Any] | None:
    memo = fields.obj("memo")
    if memo is None:
        return None
    size = len(json.dumps(memo, separators=(",", ":"), ensure_ascii=False).encode())
    if size > limit:
        fields.add("memo", f"The memo must not be larger than {limit} bytes of JSON (got {size}).")
        return None
    return memo


def _search_attributes(fields: Fields) -> dict[str, Any] | None:
    attributes = fields.obj("search_attributes")
    if attributes is None:
        return None
    problems: list[str] = []
    for key, value in attributes.items():
        if not key:
            problems.append("Search attribute keys must not be empty.")
            continue
        if len(key.encode()) > MAX_SEARCH_ATTRIBUTE_KEY_BYTES:
            problems.append(
                f"Search attribute key '{key[:40]}' exceeds {MAX_SEARCH_ATTRIBUTE_KEY_BYTES} bytes."
            )
        elif not SEARCH_ATTRIBUTE_KEY_PATTERN.fullmatch(key):
            problems.append(
                f"Search attribute key '{key}' must start with a letter and use only letters, digits, _."
            )
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and len(item.encode()) > MAX_SEARCH_ATTRIBUTE_VALUE_BYTES:
                problems.append(
                    f"Search attribute '{key}' has a value over {MAX_SEARCH_ATTRIBUTE_VALUE_BYTES} bytes."
                )
                break
    for problem in problems:
        fields.add("search_attributes", problem)
    return None if problems else attributes


@router.post("/workflows")
async def start_workflow(ctx: Ctx) -> JSONResponse:
    request = parse_start(ctx.body, ctx.settings.max_memo_bytes)
    body = await _call(ctx.engine.start_workflow(ctx.namespace, request))
    status = 200 if body.get("outcome") == "returned_existing_active" else 201
    return respond(ctx.request, body, status)


# ---------------------------------------------------------------------- reads


@router.get("/workflows")
async def list_workflows(ctx: Ctx) -> JSONResponse:
    query = Fields(dict(ctx.request.query_params))
    workflow_type = query.string("workflow_type", max_len=255)
    status = query.raw("status")
    if isinstance(status, str) and status in contracts.LIST_STATUS_ALIASES:
        bucket = contracts.LIST_STATUS_ALIASES[status]
        query.add("status", f"The status filter '{status}' is not canonical; use the bucket '{bucket}'.")
        status = None
    elif status is not None and status != "":
        status = query.string("status", choices=contracts.LIST_STATUS_VALUES)
    else:
        status = None
    search = query.string("query", max_len=1000) or None
    page_size = query.integer("page_size", minimum=1, maximum=LIST_PAGE_SIZE_MAX)
    token = query.string("next_page_token", max_len=512) or None
    query.check()
    body = await _call(
        ctx.engine.list_workflows(
            ctx.namespace,
            workflow_type=workflow_type or None,
            status=status,
            query=search,
            page_size=page_size or LIST_PAGE_SIZE_DEFAULT,
            next_page_token=token,
        )
    )
    return respond(ctx.request, body)


@router.get("/workflows/{workflow_id}")
async def describe_workflow(workflow_id: str, ctx: Ctx) -> JSONResponse:
    body = await _call(ctx.engine.describe_workflow(ctx.namespace, workflow_id))
    return respond(ctx.request, body)


@router.get("/workflows/{workflow_id}/runs")
async def list_runs(workflow_id: str, ctx: Ctx) -> JSONResponse:
    body = await _call(ctx.engine.list_runs(ctx.namespace, workflow_id))
    return respond(ctx.request, body)


@router.get("/workflows/{workflow_id}/runs/{run_id}")
async def describe_run(workflow_id: str, run_id: str, ctx: Ctx) -> JSONResponse:
    body = await _call(ctx.engine.describe_run(ctx.namespace, workflow_id, run_id))
    return respond(ctx.request, body)


@router.get("/workflows/{workflow_id}/runs/{run_id}/history")
async def history(workflow_id: str, run_id: str, ctx: Ctx) -> JSONResponse:
    query = Fields(dict(ctx.request.query_params))
    page_size = query.integer("page_size", minimum=1, maximum=HISTORY_PAGE_SIZE_MAX)
    token = query.string("next_page_token", max_len=512) or None
    raw_wait = query.raw("wait_new_event")
    wait = parse_bool(raw_wait) if isinstance(raw_wait, str) else None
    if isinstance(raw_wait, str) and wait is None:
        query.add("wait_new_event", "The wait new event field must be true or false.")
    query.check()
    body = await _call(
        ctx.engine.history_page(
            ctx.namespace,
            workflow_id,
            run_id,
            page_size=page_size or HISTORY_PAGE_SIZE_DEFAULT,
            next_page_token=token,
            wait_new_event=bool(wait),
        )
    )
    return respond(ctx.request, body)


@router.get("/workflows/{workflow_id}/runs/{run_id}/history/export")
async def export_history(workflow_id: str, run_id: str, ctx: Ctx) -> JSONResponse:
    # A plain bundle: its integrity checksum covers exactly these keys, so nothing is added.
    body = await _call(ctx.engine.export_history(ctx.namespace, workflow_id, run_id))
    return respond(ctx.request, body)
