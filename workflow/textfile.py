"""Files people hand us: regular files only, size checked before reading, UTF-8 text without NUL bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FileProblem(ValueError):
    """A file cannot be used: `reason` says why, `line` where (0 when it concerns the whole file)."""

    def __init__(self, file: str, reason: str, line: int = 0):
        self.file, self.reason, self.line = file, reason, line
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")


def read_bytes(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The whole content of a regular file of at most `limit` bytes.

    The type and size are checked before reading, and at most limit + 1 bytes are read, so a
    device (/dev/zero), a FIFO or a file growing while read cannot hang the command or fill memory.
    Raises FileProblem with a message that names the file and says what is wrong.
    """
    name = str(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise FileProblem(name, "no such file") from None
    except IsADirectoryError:
        raise FileProblem(name, f"is a folder, not a {what}") from None
    except OSError as e:
        raise FileProblem(name, f"cannot open ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileProblem(name, f"is a folder, not a {what}")
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(name, f"is not a regular file (a device, pipe or socket), so it is not a {what}")
        if st.st_size > limit:
            raise FileProblem(name, f"the file is {_size(st.st_size)}; a {what} may be at most {_size(limit)}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileProblem(name, f"the file grew past {_size(limit)} while being read; a {what} may be at most {_size(limit)}")
        return b"".join(chunks)
    except OSError as e:
        raise FileProblem(name, f"cannot read ({e.strerror})") from None
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM is allowed) without NUL bytes; FileProblem naming the line otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise FileProblem(name, "not UTF-8 text (is this a binary file?)", line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FileProblem(name, "contains NUL bytes: not a text file", line)
    return text


def read_text(path: str | Path, limit: int, what: str = "file") -> str:
    """read_bytes + decode: a bounded UTF-8 text file; FileProblem with a located message."""
    return decode(read_bytes(path, limit, what), str(path))
