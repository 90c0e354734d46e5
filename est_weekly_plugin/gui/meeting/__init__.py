"""Step 4: the weekly meeting panel."""
