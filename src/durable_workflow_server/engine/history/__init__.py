"""History: the append-only event log of each run (``history_events``).

``rows`` holds the table's statements and the one way to append (gap-free sequences);
``events`` builds payloads and the wire shapes of an event; ``pages`` serves the worker-plane
pages; ``export`` the export bundle.
"""
