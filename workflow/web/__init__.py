"""The workbench (督办工作台): pages for people and a JSON API for scripts, over the service layer (ASGI)."""

from __future__ import annotations

import gc
import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from .. import service
from .app import create_app

__all__ = ["create_app", "from_environment", "run_workers", "serving"]


def serving(app):
    """An app about to serve for days: what is loaded by now (the modules of Python, SQLAlchemy, Starlette, Jinja2…,
    some 80,000 objects that live as long as the process) is set aside from the cycle collector (gc.freeze). A full
    collection walked them all, 40–100 ms on the bench's machine, during which the process answered nobody: every
    request in flight in that worker waited (measured in-process: 52–102 ms pauses, about one every 300 pages;
    4.5 ms after the freeze). Only `wuzhuan serve` calls this: tests build and drop many apps in one process."""
    gc.collect()
    gc.freeze()
    return app


def from_environment():
    """The app for a uvicorn worker process: the database and settings come from the environment `wuzhuan serve` set."""
    settings = service.load_settings(os.environ.get("WUZHUAN_CONFIG"))
    return serving(create_app(service.open_store(os.environ.get("WUZHUAN_DATABASE_URL"), settings)))


class _Config(uvicorn.Config):
    """uvicorn's settings, with Nagle's algorithm off on the listening socket that several workers share.

    uvicorn binds that socket as `socket.socket(family)`, protocol 0, and asyncio turns Nagle off on an accepted
    connection only when the protocol says TCP: without this, a response written in two parts (headers, then
    body) waited for the client's delayed ACK, about 40 ms on every page (measured: 60 ms against 18 ms inside
    the app, 15 ms with one worker). Linux gives accepted connections the listener's TCP_NODELAY."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run_workers(workers: int, **options) -> None:
    """`wuzhuan serve --workers N` (N > 1): uvicorn's worker processes, each building its app with
    from_environment, on one listening socket (see _Config)."""
    config = _Config("workflow.web:from_environment", factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
