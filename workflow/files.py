"""An uploaded file judged by its content: its type from magic bytes (and zip members), a safe name, its SHA-256."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidInput

CHUNK = 1 << 20  # read, hashed and stored a mebibyte at a time: memory stays bounded whatever the file's size
MAX_FILE = 200 * 1024 * 1024  # no file over 200 MB, whatever a template allows
ZIP_RATIO, ZIP_MAX = 100, 200 * 1024 * 1024  # a zip's declared content: at most 100× its size and 200 MB
MAX_NAME = 120


@dataclass(frozen=True)
class Kind:
    ext: str
    mime: str
    label: str


KINDS = {k.ext: k for k in (
    Kind("pdf", "application/pdf", "PDF 文档"),
    Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档"),
    Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 表格"),
    Kind("ofd", "application/ofd", "OFD 版式文档"),
    Kind("jpg", "image/jpeg", "JPEG 图片"),
    Kind("png", "image/png", "PNG 图片"),
)}
ALIASES = {"jpeg": "jpg"}
ZIP_MEMBER = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "ofd": "OFD.xml"}
PREVIEWABLE = ("pdf", "jpg", "png")  # shown on the item page (an <img>, or the browser's PDF viewer in a frame)


@dataclass(frozen=True)
class Upload:
    """A file read whole into a temporary file, judged and hashed: what the store keeps."""

    name: str  # the safe base name, its extension the content's
    kind: str  # a key of KINDS
    size: int
    sha256: str
    path: Path  # the spooled copy (the caller removes it: discard())

    @property
    def mime(self) -> str:
        return KINDS[self.kind].mime

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_name(name: str, kind: str | None = None) -> str:
    """The base name only (no folders, either slash), without control and direction characters, at most 120
    characters with its extension kept; the extension the content's when `kind` is given; never empty."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = "".join(ch for ch in _CONTROL.sub("", base) if unicodedata.category(ch) != "Cf").strip().strip(".") or "文件"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.lower()
    if kind is not None and ALIASES.get(ext, ext) != kind:
        stem, ext = (base if not dot else stem), kind
    ext = ext[:10]
    stem = stem[:MAX_NAME - len(ext) - 1] if ext else stem[:MAX_NAME]
    return f"{stem or '文件'}.{ext}" if ext else stem


def parse_size(value: int | str) -> int:
    """Bytes from a number or a size text: 500, "500KB", "20MB", "1GB" (1024-based); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        n = value
    else:
        m = re.fullmatch(r"\s*(\d{1,10})\s*([KMG]?)i?B?\s*", str(value), re.IGNORECASE)
        if not m:
            raise ValueError(value)
        n = int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
    if not 1 <= n <= MAX_FILE:
        raise ValueError(value)
    return n


def size_text(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{n} 字节"


def sniff(head: bytes, path: Path) -> str | None:
    """The kind the content is (None: none we take): magic bytes, and for a zip the member that makes each kind."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        return next((k for k, member in ZIP_MEMBER.items() if member in names), None)
    return None


def _zip_bounded(path: Path, size: int, shown: str) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            declared = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(f"文件“{shown}”已损坏，无法读取") from None
    if declared > ZIP_MAX or declared > ZIP_RATIO * max(size, 1):
        raise InvalidInput(f"文件“{shown}”解压后将达 {size_text(declared)}（超过 {ZIP_RATIO} 倍或 {size_text(ZIP_MAX)}），"
                           "疑为压缩炸弹，未保存", reason="zip_bomb")


def inspect(name: str, stream: BinaryIO, accept: tuple[str, ...] = tuple(KINDS), max_size: int = MAX_FILE,
            field: str = "") -> Upload:
    """Read `stream` to a temporary file, a mebibyte at a time, hashing it; judge it: not empty, not over
    `max_size`, of a kind in `accept` by its content, its name's extension the same kind (a renamed file is
    refused), a zip not a bomb. → Upload; InvalidInput with one clear reason otherwise (nothing kept)."""
    shown = safe_name(name)
    where = f"{field}：" if field else ""
    fd, tmp = tempfile.mkstemp(prefix="wuzhuan-upload-")
    path = Path(tmp)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_size:
                    raise InvalidInput(f"{where}文件“{shown}”超过 {size_text(max_size)}，未保存", reason="too_large",
                                       limit=max_size)
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput(f"{where}文件“{shown}”是空文件，未保存", reason="empty")
        kind = sniff(head, path)
        if kind is None:
            raise InvalidInput(f"{where}文件“{shown}”的内容不是可接收的文件类型（{'、'.join(accept)}），未保存", reason="type")
        ext = shown.rpartition(".")[2].lower() if "." in shown else ""
        if ALIASES.get(ext, ext) != kind:
            raise InvalidInput(f"{where}文件“{shown}”的扩展名与内容不符（内容是 {KINDS[kind].label}），未保存", reason="mismatch",
                               found=kind)
        if kind not in accept:
            raise InvalidInput(f"{where}不接收 {KINDS[kind].label}（“{shown}”）：可上传 {'、'.join(accept)}", reason="type",
                               found=kind)
        if kind in ZIP_MEMBER:
            _zip_bounded(path, size, shown)
        return Upload(safe_name(name, kind), kind, size, digest.hexdigest(), path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
