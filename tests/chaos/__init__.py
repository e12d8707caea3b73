"""The chaos test (issue 10): servers and workers killed with ``kill -9`` under a mixed load.

``python -m tests.chaos --help`` runs it by hand (``--long --minutes 30`` for the long mode);
``tests/chaos/test_chaos.py`` is the CI-sized run, marked ``chaos``.
"""
