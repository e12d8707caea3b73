"""Task queues, build-id cohorts and the worker registry's operator view."""
