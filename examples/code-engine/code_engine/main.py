"""The application as a server runs it: ``uvicorn code_engine.main:app``."""

from code_engine.app import create_app

app = create_app()
