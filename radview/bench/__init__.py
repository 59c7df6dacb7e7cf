"""`radview bench ...`: speed measurements against named baselines, as tables and JSON."""
