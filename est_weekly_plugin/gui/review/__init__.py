"""Step 2: the review panel."""
