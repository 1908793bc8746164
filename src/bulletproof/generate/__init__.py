"""Files bulletproof writes for a team around the environment (TROUBLESHOOTING.md, ...)."""
