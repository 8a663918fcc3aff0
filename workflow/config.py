"""Settings from a TOML file and the environment (environment wins); passwords are never shown."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import InvalidInput


@dataclass(frozen=True)
class Settings:
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = "none"  # none | starttls | tls
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "wuzhuan@localhost"
    mail_from_name: str = "人大常委会督办系统"
    outbox_dir: str = "outbox"
    notice_dir: str | None = None
    max_attempts: int = 8
    retry_base_seconds: int = 60
    retry_max_seconds: int = 3600
    sweep_seconds: int = 60
    deliver_seconds: int = 30

    def public(self) -> dict:
        """For display: the password is only ever shown as set or not."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["smtp_password"] = "(set)" if self.smtp_password else None
        return out


_ENV = {f.name: "WUZHUAN_" + f.name.upper() for f in fields(Settings)}


def load_settings(path: str | Path | None = None) -> Settings:
    """Read `wuzhuan.toml` (or `path`, or WUZHUAN_CONFIG), then WUZHUAN_* environment variables."""
    values: dict = {}
    path = path or os.environ.get("WUZHUAN_CONFIG")
    if path is None and Path("wuzhuan.toml").exists():
        path = "wuzhuan.toml"
    if path:
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise InvalidInput(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as e:
            raise InvalidInput(f"configuration file {path}: {e}") from None
        flat = {**data.get("mail", {}), **data.get("smtp", {}), **data.get("scheduler", {}), **{k: v for k, v in data.items() if not isinstance(v, dict)}}
        for key, value in flat.items():
            name = key if key in _ENV else f"smtp_{key}" if f"smtp_{key}" in _ENV else None
            if name is None:
                raise InvalidInput(f"configuration file {path}: unknown setting '{key}' (known: {', '.join(_ENV)})")
            values[name] = value
    for name, env in _ENV.items():
        if env in os.environ:
            values[name] = os.environ[env]
    kinds = {f.name: f.type for f in fields(Settings)}
    for name, value in list(values.items()):
        if kinds[name] == "int":
            try:
                values[name] = int(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"setting {name} must be a whole number, not '{value}'") from None
    s = Settings(**values)
    if s.smtp_security not in ("none", "starttls", "tls"):
        raise InvalidInput(f"smtp_security must be none, starttls or tls, not '{s.smtp_security}'")
    return s
