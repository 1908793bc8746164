from bulletproof.cli import entry

entry()
