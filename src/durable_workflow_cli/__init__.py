"""The dw command-line interface."""
