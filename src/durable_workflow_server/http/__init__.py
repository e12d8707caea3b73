"""The HTTP layer: request guards, validation, envelopes and the routes of each plane."""
