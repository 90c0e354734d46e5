"""Step 1 of the EST cycle: the reporting dock."""
