"""Workers: the ``workers`` registry. ``rows`` holds the statements; ``registry`` the operations."""
