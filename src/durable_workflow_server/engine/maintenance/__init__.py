"""System maintenance passes: repair, retention, activity timeouts; the server's metrics."""
