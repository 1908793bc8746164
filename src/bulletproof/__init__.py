"""bulletproof: make a Python project's developer environment work the first time, and prove it."""

__version__ = "0.1.0"
