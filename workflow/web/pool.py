"""Where the workbench runs its use cases: worker threads, at most as many as the store has pooled connections."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

THREADS = 8  # the store's connection pool keeps as many (more threads would only queue for the GIL and churn connections)


class Pool:
    """Runs a blocking use case off the event loop, never more than THREADS at once."""

    def __init__(self, threads: int = THREADS):
        self.threads = threads
        # one limiter per event loop, made inside it (a server has one loop; a test client may start several)
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)
