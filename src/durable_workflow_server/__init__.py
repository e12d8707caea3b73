"""The Durable Workflow server (ASGI app, engine, storage)."""
