"""Runs: ``workflow_instances`` and ``workflow_runs``.

``rows`` holds the two tables' statements and the run-row helpers (load, lock, update);
``lifecycle`` creates and closes runs; ``steps`` is the wake rule over a run's blocking steps;
``timeouts`` enforces execution and run timeouts; ``views`` renders describe and list rows;
``diagnostics`` composes the debug view.
"""
