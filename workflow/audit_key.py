"""The audit key: made once, kept outside the database (a file or an environment variable), read when signing or checking."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .errors import InvalidInput
from .textfile import FileProblem, read_text

KEY_BYTES = 32


def new_key_file(path: str | Path) -> Path:
    """Write a new random key to `path` (readable by its owner only); never overwrites an existing file."""
    p = Path(path)
    if p.exists():
        raise InvalidInput(f"{p} exists already: an audit key is never overwritten (the trail signed with it could no "
                           "longer be checked); choose another file")
    if not p.parent.is_dir():
        raise InvalidInput(f"cannot create {p}: folder {p.parent} does not exist")
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise InvalidInput(f"cannot create {p}: {e.strerror}") from None
    with os.fdopen(fd, "w") as f:
        f.write("# wuzhuan audit key: keep it outside the database and its backups; whoever holds it can sign events\n")
        f.write(secrets.token_hex(KEY_BYTES) + "\n")
    return p


def parse_key(text: str, where: str) -> bytes:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    try:
        key = bytes.fromhex(lines[0]) if len(lines) == 1 else b""
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise InvalidInput(f"{where} 中没有审计密钥（应为一行 {KEY_BYTES * 2} 位以上的十六进制数字）", file=str(where),
                           next="init_key")
    return key


def load_key(key_file: str | None, key_hex: str | None) -> bytes | None:
    """The key from WUZHUAN_AUDIT_KEY (hex) or the file named by audit_key_file; None when neither is set."""
    if key_hex:
        return parse_key(key_hex, "WUZHUAN_AUDIT_KEY")
    if not key_file:
        return None
    try:
        return parse_key(read_text(key_file, 4096, "key file"), f"the audit key file {key_file}")
    except FileProblem as e:
        raise InvalidInput(f"cannot read the audit key: {e}") from None
