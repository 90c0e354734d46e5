"""The import wizard (file or layer → mapping → location → preview → import)."""
