"""Workflow tasks: ``workflow_tasks`` and the poll-retry cache ``poll_requests``.

``rows`` holds the statements (and queuing a task for a run); ``claims`` leases a task to a
poller and builds the poll answer; ``leases`` fences, releases and expires leases;
``outcomes`` records heartbeat / complete / fail; ``completion`` applies a completed task's
commands to its run.
"""
