"""Durable workflows for Python (SDK). Re-exports are filled in as modules land."""
