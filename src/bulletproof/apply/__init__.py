"""Build environments in generations and switch DIR/.venv between them atomically."""
