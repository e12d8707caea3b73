"""Activities: ``activity_executions`` (one per scheduled step), ``activity_tasks`` (one per try)
and ``activity_attempts`` (one per lease handed to a worker).

``rows`` holds the three tables' statements; ``scheduling`` creates an execution and its first
task; ``claims`` leases a task as a new attempt; ``outcomes`` records complete / fail /
heartbeat; ``retries`` decides and queues the next try; ``deadlines`` computes the timeout
columns and ``timeouts`` enforces them; ``leases`` releases and expires leases.
"""
