"""Control-plane messages to a workflow: signals, queries and updates (instance or run routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..protocol import routes
from ._base import Arguments, BaseClient
from ._results import WorkflowCommandResult

# The result classes load with the first call that returns one (``dw`` cold start).
if TYPE_CHECKING:
    from ._message_results import QueryResult, UpdateResult


def _target(instance_route: str, run_route: str, workflow_id: str, name: str, run_id: str | None) -> Any:
    """The route and path values of a message to the current run, or to ``run_id``."""
    params = {"workflow_id": workflow_id, "name": name}
    if run_id is None:
        return instance_route, params
    return run_route, {**params, "run_id": run_id}


class WorkflowMessagesMixin(BaseClient):
    """Signal, query and update methods of :class:`durable_workflow.Client`."""

    async def signal_workflow(
        self,
        workflow_id: str,
        signal_name: str,
        args: Arguments | None = None,
        *,
        request_id: str | None = None,
        run_id: str | None = None,
    ) -> WorkflowCommandResult:
        """Send a signal. ``request_id`` lets the server record a retried signal once.

        The server records the signal in the run's history and hands it to the workflow's
        ``@workflow.signal`` handler in its next workflow task (a worker whose code has no
        handler for the name fails that task, naming the signal, rather than dropping it).

        Args:
            workflow_id: Target workflow (its current run unless ``run_id`` is given).
            signal_name: The signal's name.
            args: Positional arguments.
            request_id: Caller correlation id; a retried signal with the same id is recorded once.
            run_id: Send to this run only (refused when it is not the open run).

        Returns:
            The command result (``outcome``, ``command_status``, ``command_id``).

        Raises:
            SignalFailed: Unknown signal, invalid arguments or closed run.
            WorkflowNotFound: No workflow with this id.
            InvalidArgument: The name is empty, longer than 256 bytes or holds control
                characters, or ``request_id`` is longer than 255 characters.
        """
        body = await self._message_body(args, what=f"signal {signal_name!r} arguments")
        if request_id is not None:
            body["request_id"] = request_id
        route, params = _target(
            routes.WORKFLOW_SIGNAL, routes.WORKFLOW_RUN_SIGNAL, workflow_id, signal_name, run_id
        )
        data = await self._request_object("POST", route, path_params=params, body=body, operation="signal")
        return WorkflowCommandResult.from_dict(data, workflow_id=workflow_id)

    async def query_workflow(
        self, workflow_id: str, query_name: str, args: Arguments | None = None, *, run_id: str | None = None
    ) -> Any:
        """Run a query on the workflow and return its decoded result.

        Raises:
            QueryFailed: Unknown query, handler error, no worker available or timeout.
            WorkflowNotFound: No workflow with this id.
        """
        answer = await self.query_workflow_detailed(workflow_id, query_name, args, run_id=run_id)
        return answer.result

    async def query_workflow_detailed(
        self, workflow_id: str, query_name: str, args: Arguments | None = None, *, run_id: str | None = None
    ) -> QueryResult:
        """Run a query and return the whole answer: the decoded result and the response body.

        Args:
            workflow_id: Target workflow (its current run unless ``run_id`` is given).
            query_name: The query's name.
            args: Positional arguments.
            run_id: Query this run.

        Raises:
            QueryFailed: Unknown query, handler error, no worker available or timeout.
            WorkflowNotFound: No workflow with this id.
        """
        body = await self._message_body(args, what=f"query {query_name!r} arguments")
        route, params = _target(
            routes.WORKFLOW_QUERY, routes.WORKFLOW_RUN_QUERY, workflow_id, query_name, run_id
        )
        data = await self._request_object("POST", route, path_params=params, body=body, operation="query")
        run = data.get("run_id")
        from ._message_results import QueryResult

        return QueryResult(
            result=self._result_of(data, what=f"result of query {query_name!r}"),
            workflow_id=str(data.get("workflow_id") or workflow_id),
            query_name=query_name,
            run_id=run if isinstance(run, str) else None,
            raw=dict(data),
        )

    async def update_workflow(
        self,
        workflow_id: str,
        update_name: str,
        args: Arguments | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
        run_id: str | None = None,
    ) -> Any:
        """Send an update and return its decoded result.

        Args:
            workflow_id: Target workflow.
            update_name: Update handler name.
            args: Positional arguments.
            wait_for: ``"accepted"`` (server default) or ``"completed"``.
            wait_timeout_seconds: How long the server waits for completion.
            request_id: Caller correlation id.
            run_id: Update this run (refused when it is not the open run).

        Returns:
            The update handler's decoded result once completed (``wait_for="completed"``);
            ``None`` when only accepted so far (also when a completed-wait timed out).

        Raises:
            UpdateRejected: The workflow's validator rejected the update before it was accepted
                (nothing is recorded), the workflow has no such update, or the run is closed.
            InvalidArgument: The update failed (``update_failed``: the handler raised, or a
                validator that only runs after acceptance refused it) or its arguments were
                invalid.
            WorkflowNotFound: No workflow with this id.
        """
        answer = await self.update_workflow_detailed(
            workflow_id,
            update_name,
            args,
            wait_for=wait_for,
            wait_timeout_seconds=wait_timeout_seconds,
            request_id=request_id,
            run_id=run_id,
        )
        return answer.result

    async def update_workflow_detailed(
        self,
        workflow_id: str,
        update_name: str,
        args: Arguments | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
        run_id: str | None = None,
    ) -> UpdateResult:
        """Send an update and return the whole answer (ids, statuses, decoded result, body).

        Takes the arguments of :meth:`update_workflow` and raises the same errors.
        """
        body = await self._message_body(args, what=f"update {update_name!r} arguments")
        optional = {
            "wait_for": wait_for,
            "wait_timeout_seconds": wait_timeout_seconds,
            "request_id": request_id,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        # A completed-wait holds the request up to its wait (the server's default is 10 s), on
        # top of a pre-accept validation by a worker: the read timeout must outlast both.
        wait = (wait_timeout_seconds or 10) if wait_for == "completed" else 0
        route, params = _target(
            routes.WORKFLOW_UPDATE, routes.WORKFLOW_RUN_UPDATE, workflow_id, update_name, run_id
        )
        data = await self._request_object(
            "POST",
            route,
            path_params=params,
            body=body,
            operation="update",
            timeout=max(self.timeout, wait + 35.0),
        )
        result = self._result_of(data, what=f"result of update {update_name!r}")
        from ._message_results import UpdateResult

        return UpdateResult.from_dict(data, result=result, workflow_id=workflow_id, update_name=update_name)

    async def _message_body(self, args: Arguments | None, *, what: str) -> dict[str, Any]:
        # Like the reference SDK: no ``input`` key at all when there are no arguments.
        values = self._arguments(args)
        return {"input": await self._payload(values, what=what)} if values else {}

    def _result_of(self, data: Mapping[str, Any], *, what: str) -> Any:
        env = data.get("result_envelope")
        if env:
            return self._decode(env, None, what=what)
        return data.get("result")
