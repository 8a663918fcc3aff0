"""A document sent to the browser or an API client: spooled from the store (bounded memory), always as a download
with a safe name, `nosniff`; a PDF or an image may be viewed inline (`?view=1`), sandboxed, never HTML or SVG."""

from __future__ import annotations

import tempfile
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from .. import files as judge
from ..service import reads

SPOOL = 1 << 20  # a download up to 1 MB stays in memory on its way out; a larger one goes through a temporary file


def disposition(kind: str, name: str) -> str:
    ascii_ = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in name) or "file"
    return f"{kind}; filename=\"{ascii_}\"; filename*=UTF-8''{quote(name, safe='')}"


def send(store, viewer, item_id: int, file_id: int, view: bool = False) -> StreamingResponse:
    """The file's response (NotFound, as every read, when he may not see the item or it has no such file). Run in a
    worker thread: it reads the store."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)
    try:
        info = reads.download(store, viewer, item_id, file_id, spool.write)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    inline = view and info.type in judge.PREVIEWABLE  # decided by the content when it was uploaded, not by a name
    headers = {"Content-Disposition": disposition("inline" if inline else "attachment", info.name),
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store", "Content-Length": str(info.size),
               "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"}

    def chunks():
        while chunk := spool.read(judge.CHUNK):
            yield chunk
    return StreamingResponse(chunks(), media_type=info.mime if inline else "application/octet-stream", headers=headers,
                             background=BackgroundTask(spool.close))
