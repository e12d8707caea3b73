"""The UI's pages, one module per noun, each exporting ``ROUTES``."""
