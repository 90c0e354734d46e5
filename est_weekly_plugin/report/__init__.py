"""The meeting PDF: its data, the .qpt template, the fill, headless charts, the export and its task."""
