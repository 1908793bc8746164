"""code-engine: the example project of the original plan, kept small."""
