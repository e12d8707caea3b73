"""Durable timers: ``timers``. ``rows`` holds the statements; ``firing`` starts and fires timers."""
