"""The EST domain: events, weeks, errors, validation, roles, language and settings. Imports no other layer."""
