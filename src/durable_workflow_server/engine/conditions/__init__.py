"""Condition waits: ``open_condition_wait``, their timeout timers, satisfaction and time-out."""
