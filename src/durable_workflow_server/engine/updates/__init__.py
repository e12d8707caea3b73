"""Workflow updates: accepted by the control plane, answered by the worker's update commands."""
