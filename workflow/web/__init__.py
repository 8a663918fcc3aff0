"""The workbench (督办工作台): pages for people and a JSON API for scripts, over the service layer (ASGI)."""

from __future__ import annotations

import os

from .. import service
from .app import create_app

__all__ = ["create_app", "from_environment"]


def from_environment():
    """The app for a uvicorn worker process: the database and settings come from the environment `wuzhuan serve` set."""
    settings = service.load_settings(os.environ.get("WUZHUAN_CONFIG"))
    return create_app(service.open_store(os.environ.get("WUZHUAN_DATABASE_URL"), settings))
