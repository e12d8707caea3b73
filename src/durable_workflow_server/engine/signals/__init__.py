"""Signals: recording a control-plane signal durably and handing it to the run's next task."""
