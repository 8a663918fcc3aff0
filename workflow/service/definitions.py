"""Templates as a person asks for them: a file (validated, every problem located), a published key, a built-in one."""

from __future__ import annotations

from .. import templates
from ..definition import Definition
from ..errors import NotFound
from ..store import Store
from ..store import templates as template_store
from . import common


def template(path_or_key: str, store: Store | None = None, notice_dir: str | None = None) -> Definition:
    """A template from a file (validated), the newest published version of a key, or a built-in one."""
    if templates.looks_like_file(path_or_key):
        return templates.validate_paths([path_or_key], notice_dir)[0]
    if store is not None:
        with store.read() as tx:
            tv = template_store.latest(tx, path_or_key)
            if tv is not None:
                return common.definition_of(tv)
    builtin = templates.builtin(path_or_key)
    if builtin is not None:
        return templates.validate_paths([builtin], notice_dir)[0]
    raise NotFound(f"'{path_or_key}' is neither a template file, a published template nor a built-in template")
