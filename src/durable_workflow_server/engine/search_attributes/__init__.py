"""The typed search-attribute registry of each namespace."""
