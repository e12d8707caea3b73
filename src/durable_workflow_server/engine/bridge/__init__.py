"""The webhook bridge: idempotent start/signal/update from an external event."""
