"""Namespaces: list, describe, create, update, delete; the external-storage policy."""
