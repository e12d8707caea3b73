"""Child workflows: ``child_links`` rows, child runs, their results in the parent, parent-close policy.

``starting`` applies ``start_child_workflow`` (and starts retry runs), ``hooks`` is what every
run close does for children (called from ``runs.lifecycle.close_run``), ``resolution`` is the
parent's side of a child closing (fired by the timer loop), ``events`` the event payloads and
``rows`` the statements. The lock rule (parent before child) is explained in ``hooks``.
"""
