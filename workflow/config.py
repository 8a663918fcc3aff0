"""Settings from a TOML file and the environment (environment wins); passwords are never shown.

In `wuzhuan.toml` a setting is written at the top level by its full name (`org_name = "…"`) or in
a section named by its first word (`[org] name = "…"`, `[smtp] host = "…"`, `[clock] simulation
= true`); mail settings may also sit under `[mail]` or `[smtp]` without their prefix, as before.
Every setting also has an environment variable: WUZHUAN_ and its name in capitals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import InvalidInput
from .textfile import FileProblem, read_text


@dataclass(frozen=True)
class Settings:
    org_name: str = "市人大常委会"  # the committee's name, as notices sign it
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = "none"  # none | starttls | tls
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "wuzhuan@localhost"
    mail_from_name: str = "人大常委会督办系统"
    mail_domain: str | None = None  # the Message-ID domain; default: the domain of mail_from
    outbox_dir: str = "outbox"
    notice_dir: str | None = None
    max_attempts: int = 8
    retry_base_seconds: int = 60
    retry_max_seconds: int = 3600
    sweep_seconds: int = 60
    deliver_seconds: int = 30
    base_url: str | None = None  # where the workbench is reached; links in notices point there
    audit_key_file: str | None = None  # the file holding the audit key (kept outside the database)
    audit_key: str | None = field(default=None, repr=False)  # or the key itself, hexadecimal (WUZHUAN_AUDIT_KEY)
    clock_simulation: bool = False  # allow acting at times ahead of the wall clock (rehearsals, training)
    session_idle_minutes: int = 480  # a workbench session ends after this long unused (8 hours) …
    session_max_hours: int = 168  # … and after this long at most (7 days)
    trust_forwarded: bool = False  # behind a reverse proxy: take the client's address and scheme from X-Forwarded-*

    def public(self) -> dict[str, Any]:
        """For display: the password is only ever shown as set or not."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["smtp_password"] = "(set)" if self.smtp_password else None
        out["audit_key"] = "(set)" if self.audit_key else None
        out["mail_domain"] = self.message_domain
        return out

    @property
    def message_domain(self) -> str:
        """The domain of Message-IDs: mail_domain, else the sender's domain."""
        if self.mail_domain:
            return self.mail_domain
        return self.mail_from.rpartition("@")[2] or "localhost"


NAMES = tuple(f.name for f in fields(Settings))
_ENV = {n: "WUZHUAN_" + n.upper() for n in NAMES}
_KINDS = {f.name: f.type for f in fields(Settings)}


def _setting_name(section: str | None, key: str) -> str | None:
    candidates = [key] if section is None else [f"{section}_{key}", key, f"smtp_{key}", f"mail_{key}"]
    return next((c for c in candidates if c in _ENV), None)


def _flatten(data: dict[str, Any], path: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in data.items():
        items = value.items() if isinstance(value, dict) else [(key, value)]
        section = key if isinstance(value, dict) else None
        for k, v in items:
            name = _setting_name(section, k)
            if name is None:
                where = f"[{section}] {k}" if section else k
                raise InvalidInput(f"configuration file {path}: unknown setting '{where}' (known: {', '.join(NAMES)})")
            values[name] = v
    return values


def _convert(name: str, value: Any) -> Any:
    kind = _KINDS[name]
    if kind == "int":
        if isinstance(value, bool):
            raise InvalidInput(f"setting {name} must be a whole number, not '{value}'")
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"setting {name} must be a whole number, not '{value}'") from None
        if not 0 <= n <= 10**9:
            raise InvalidInput(f"setting {name} must be between 0 and 1000000000, not {n}")
        return n
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise InvalidInput(f"setting {name} must be true or false, not '{value}'")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"setting {name} must be text, not {value!r}")
    return value


def load_settings(path: str | Path | None = None) -> Settings:
    """Read `wuzhuan.toml` (or `path`, or WUZHUAN_CONFIG), then WUZHUAN_* environment variables."""
    values: dict[str, Any] = {}
    path = path or os.environ.get("WUZHUAN_CONFIG")
    if path is None and Path("wuzhuan.toml").is_file():
        path = "wuzhuan.toml"
    if path:
        import tomllib  # only when there is a settings file to read (start-up time of every command)

        try:
            data = tomllib.loads(read_text(path, 1_000_000, "configuration file"))
        except FileProblem as e:
            raise InvalidInput(f"configuration file {e}") from None
        except tomllib.TOMLDecodeError as e:
            raise InvalidInput(f"configuration file {path}: {e}") from None
        values.update(_flatten(data, str(path)))
    for name, env in _ENV.items():
        if env in os.environ:
            values[name] = os.environ[env]
    s = Settings(**{name: _convert(name, v) for name, v in values.items()})
    if s.smtp_security not in ("none", "starttls", "tls"):
        raise InvalidInput(f"smtp_security must be none, starttls or tls, not '{s.smtp_security}'")
    if s.base_url is not None and not s.base_url.startswith(("http://", "https://")):
        raise InvalidInput(f"base_url must start with http:// or https://, not '{s.base_url}'")
    return s
