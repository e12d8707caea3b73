"""Workflow tasks: ``workflow_tasks`` (a lease's row also names the poll it went to, for that
poll's retry).

``rows`` holds the statements (and queuing a task for a run); ``claims`` leases a task to a
poller and builds the poll answer; ``leases`` fences, releases and expires leases;
``outcomes`` records heartbeat / complete / fail; ``completion`` applies a completed task's
commands to its run.
"""
