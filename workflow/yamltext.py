"""YAML as people write it: only true/false are booleans, dates stay text, every value keeps its line and column."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import Problem

Path_ = tuple  # a path of keys and list indices into a document
MAX_NODES = 100_000


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
