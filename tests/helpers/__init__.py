"""Helpers shared by the test folders, imported by full name (``tests.helpers.<module>``)."""
