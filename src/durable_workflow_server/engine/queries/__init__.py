"""Query tasks: a caller's query (or an update's pre-accept validation) handed to a live worker."""
