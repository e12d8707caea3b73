"""Schedules: specs, fires, overlap policies, the audit history."""
