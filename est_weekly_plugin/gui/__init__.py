"""The QGIS interface: one folder per step of the EST cycle, plus shared widgets and dialogs."""
