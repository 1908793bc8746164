"""Prove an environment works: every module imports, files are intact, requirements consistent."""
