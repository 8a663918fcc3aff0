"""Files people hand us: regular files only, size checked before reading, UTF-8 text, YAML with line marks."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

Path_ = tuple  # a path of keys and list indices into a document
MAX_NODES = 100_000


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


# --- YAML with marks -------------------------------------------------------------------------

class Loader(yaml.SafeLoader):
    """YAML 1.2-ish scalars: only true/false are booleans, dates stay strings."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class TooBig(Exception):
    """Raised inside conversion to stop at MAX_NODES (alias bombs, huge files)."""


class Doc:
    """Plain data converted from YAML nodes, with the line:col of every value and key."""

    def __init__(self, name: str):
        self.name = name
        self.value_marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.data: Any = None
        self.parsed = False

    def problem(self, path: Path_, message: str, at_key: bool = False) -> None:
        line, col = self.mark(path, at_key)
        self.problems.append(Problem(self.name, line, col, message))

    def mark(self, path: Path_, at_key: bool = False) -> tuple[int, int]:
        table = self.key_marks if at_key else self.value_marks
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.value_marks:
                return self.value_marks[p]
            p = p[:-1]
        return self.value_marks.get((), (1, 1))

    def convert(self, loader: Loader, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TooBig
        self.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                key = loader.construct_object(knode)
                kmark = (knode.start_mark.line + 1, knode.start_mark.column + 1)
                if not isinstance(key, str):
                    self.problems.append(Problem(self.name, *kmark, f"key {key!r} must be text"))
                    key = str(key)
                if key in out:
                    self.problems.append(Problem(self.name, *kmark, f"duplicate key '{key}'"))
                self.key_marks[path + (key,)] = kmark
                out[key] = self.convert(loader, vnode, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(loader, v, path + (i,)) for i, v in enumerate(node.value)]
        return loader.construct_object(node)


def parse_yaml(text: str, name: str, empty_hint: str = "") -> Doc:
    """Parse text into a Doc; when it cannot be read, doc.parsed is False and doc.problems says why."""
    doc = Doc(name)
    try:
        loader = Loader(text)
    except yaml.reader.ReaderError as e:
        return _reader_problem(doc, text, e)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.problems.append(Problem(name, 1, 1, "the file is empty" + (f": {empty_hint}" if empty_hint else "")))
            return doc
        doc.data = doc.convert(loader, node, ())
        doc.parsed = True
    except yaml.reader.ReaderError as e:
        return _reader_problem(doc, text, e)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.problems.append(Problem(name, line, col, f"not valid YAML: {e.problem or e.context}"))
    except yaml.YAMLError as e:
        doc.problems.append(Problem(name, 1, 1, f"not valid YAML: {e}"))
    except TooBig:
        doc.problems.append(Problem(name, 1, 1, f"too many YAML nodes (more than {MAX_NODES})"))
    except RecursionError:
        doc.problems.append(Problem(name, 1, 1, "the YAML is nested too deeply"))
    finally:
        loader.dispose()
    return doc


def _reader_problem(doc: Doc, text: str, e: yaml.reader.ReaderError) -> Doc:
    before = text[: e.position]
    line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    doc.problems.append(Problem(doc.name, line, col, f"character U+{e.character:04X} is not allowed in YAML text"))
    return doc


def safe_load(text: str) -> Any:
    """Plain YAML data with this project's scalar rules (no marks); raises yaml.YAMLError."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader
