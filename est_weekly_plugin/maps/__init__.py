"""Map layers, styles, backgrounds and place search shared by the canvas and the meeting PDF."""
