"""Readers for the ways a project declares its dependencies, one module per shape.

Each reader returns plain values (PEP 508 strings, file lists, locked pins) and raises InputError
naming the file and the key when the input is wrong; ``project.discover`` composes them.
"""

# Extras and groups a developer environment gets by default (uv's default group is "dev").
DEV_NAMES = frozenset({"dev", "develop", "development", "test", "tests", "testing", "lint"})
