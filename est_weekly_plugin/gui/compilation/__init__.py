"""Step 3: the compilation dock, its filters, charts and map layers."""
