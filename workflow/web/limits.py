"""Request bodies bounded: refused from their Content-Length before a byte is read, or as they stream past the limit.

A form, a template upload or an API move is small; a client that sends more (by mistake or to fill the
server's memory or disk) is answered 413 at once, whatever route it aimed at and before any session, token
or form is looked at. The limit of a route is the longest prefix in `limits` that its path starts with; a
multipart body (documents) to a path ending with a suffix in `uploads` (`/advance`: a move) has that limit instead.
"""

from __future__ import annotations

import json

DEFAULT = 1_000_000  # bytes: every form and API body the workbench takes is far smaller


class TooLarge(Exception):
    """The body went past its route's limit while streaming in."""


def _limit(path: str, limits: dict[str, int], default: int) -> int:
    best = max((p for p in limits if path.startswith(p)), key=len, default=None)
    return limits[best] if best is not None else default


async def _refuse(scope, send, limit: int) -> None:
    if scope["path"].startswith("/api/"):
        body = json.dumps({"error": f"请求体超过 {limit:,} 字节的上限", "status": 413}, ensure_ascii=False).encode()
        kind = b"application/json"
    else:
        body = f"413 提交的内容超过 {limit:,} 字节的上限，未被接受。".encode()
        kind = b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Pure ASGI middleware enforcing the body limits (see the module docstring)."""

    def __init__(self, app, limits: dict[str, int] | None = None, default: int = DEFAULT,
                 uploads: dict[str, int] | None = None):
        self.app, self.limits, self.default, self.uploads = app, dict(limits or {}), default, dict(uploads or {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = _limit(scope["path"], self.limits, self.default)
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            limit = next((n for end, n in self.uploads.items() if scope["path"].endswith(end)), limit)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _refuse(scope, send, limit)
        received, started = 0, False

        async def bounded():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watched)
        except TooLarge:
            if not started:
                await _refuse(scope, send, limit)
