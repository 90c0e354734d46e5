"""Widgets and dialogs shared by the steps."""
