"""Conformance tier: checks against the shared contract data (see ``tests/helpers/contract.py``)."""
