"""The offline wheelhouse: every artefact a project's lock needs for its target, made from a
working environment (`make`), and read back, checked and served to an offline setup (`serve`)."""
