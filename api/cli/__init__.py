"""The ``jiedui`` command line (typer): ``main`` holds the app and the store commands, the other
modules one group each (``match``, ``report``, ``user``), ``common`` what they share."""

from api.cli.main import app

__all__ = ["app"]
