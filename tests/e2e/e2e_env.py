"""Constants shared by the end-to-end tests and their fixtures."""

TOKEN = "e2e-token"
