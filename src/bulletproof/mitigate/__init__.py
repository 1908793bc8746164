"""The mitigation engine: when a build, an import or a resolution fails, find why from the
failure's own text, apply the least intrusive fix, and verify again (see engine.py)."""
