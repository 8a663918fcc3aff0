"""The two HTTP clients bench/web.py measures with: raw keep-alive streams (the default) and httpx."""

from __future__ import annotations

import asyncio
import re

import httpx


class Connections:
    """A load generator light enough to share the server's cores: a pool of keep-alive HTTP/1.1 connections
    on asyncio streams, each request a few prepared bytes, each answer read by its Content-Length. httpx
    spent 3–12 ms of CPU a request here (more as connections piled up behind a saturated server), most of
    one of this machine's two CPUs at 100 requests/s; this spends well under one."""

    def __init__(self, base: str, size: int) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port, self.size = host, int(port), size
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.freed = asyncio.Condition()

    async def __aenter__(self) -> Connections:
        return self

    async def __aexit__(self, *exc) -> None:
        for _r, w in self.idle:
            w.close()

    async def _take(self):
        """An idle connection (True: it served before), or a new one (False) while fewer than `size` are open."""
        async with self.freed:
            while not self.idle and self.opened >= self.size:
                await self.freed.wait()
            if self.idle:
                return self.idle.pop(), True
            self.opened += 1
        return await asyncio.open_connection(self.host, self.port), False

    async def _give(self, conn) -> None:
        async with self.freed:
            self.idle.append(conn)
            self.freed.notify()

    async def get(self, path: str, cookie: str) -> tuple[int, float]:
        """(status, the server's own time in ms from its Server-Timing header). A kept connection the server has
        closed meanwhile (its keep-alive timeout) is replaced and the GET sent again, as browsers and httpx do."""
        conn, reused = await self._take()
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nCookie: wz_session={cookie}\r\n\r\n".encode()
        try:
            head = await self._send(conn, request)
        except (asyncio.IncompleteReadError, ConnectionError):
            conn[1].close()
            if not reused:
                raise
            conn = await asyncio.open_connection(self.host, self.port)
            head = await self._send(conn, request)
        status = int(head[9:12])
        length = re.search(r"\ncontent-length: *(\d+)", head)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length to GET {path}: {head[:200]}")
        await conn[0].readexactly(int(length.group(1)))
        timing = re.search(r"\nserver-timing: *[^\r]*dur=([0-9.]+)", head)
        await self._give(conn)
        return status, float(timing.group(1)) if timing else 0.0

    @staticmethod
    async def _send(conn, request: bytes) -> str:
        reader, writer = conn
        writer.write(request)
        return (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()


class HttpxConnections:
    """The same interface over httpx (`--client httpx`), the client this bench used first: for comparison."""

    def __init__(self, base: str, size: int) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=60,
                                        limits=httpx.Limits(max_connections=size, max_keepalive_connections=min(size, 100)))

    async def __aenter__(self) -> HttpxConnections:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    async def get(self, path: str, cookie: str) -> tuple[int, float]:
        r = await self.client.get(path, headers={"Cookie": f"wz_session={cookie}"})
        return r.status_code, float(r.headers.get("server-timing", "app;dur=0").split("dur=")[-1])
