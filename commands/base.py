"""What every command module shares: the store and settings of the run, --now and name=value parsing, output."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import click

from commands.hints import hint

EXIT_CODES = "Exit codes: 0 ok, 2 invalid input or not found, 3 not permitted, 4 changed meanwhile (look again), 1 a bug."


class DomainError(click.ClickException):
    def __init__(self, err: Exception):
        super().__init__(str(err))
        self.exit_code = getattr(err, "exit_code", 1)
        self.problems = getattr(err, "problems", None)
        self.hint = hint(getattr(err, "details", None) or {})

    def show(self, file=None) -> None:
        if self.problems and len(self.problems) > 1:
            click.echo(f"Error: {len(self.problems)} problems found:", err=True)
            for p in self.problems:
                click.echo(str(p), err=True)
        else:
            from workflow.present import safe

            hinted = f" — {self.hint}" if self.hint else ""  # still one line: scripts read the first
            click.echo(f"Error: {safe(self.message, 2000)}{safe(hinted, 500)}", err=True)


class App(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        from workflow.errors import WuzhuanError

        try:
            return super().invoke(ctx)
        except WuzhuanError as e:
            raise DomainError(e) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as e:  # a bug: say so in one line, keep the traceback for WUZHUAN_DEBUG
            if os.environ.get("WUZHUAN_DEBUG"):
                raise
            click.echo(f"Error: internal error ({type(e).__name__}: {e}); this is a bug in wuzhuan — "
                       "run again with WUZHUAN_DEBUG=1 for the traceback and report it", err=True)
            ctx.exit(1)


def settings(ctx: click.Context):
    obj = ctx.find_root().obj
    if obj.get("settings") is None:
        from workflow.config import load_settings

        obj["settings"] = load_settings(obj.get("config"))
    return obj["settings"]


def store(ctx: click.Context, write: bool = True, with_settings: bool | None = None):
    """The database: read commands open it read-only (on SQLite they never wait behind a writer)."""
    obj = ctx.find_root().obj
    if obj.get("store") is None:
        from workflow import service

        # most reads need no settings (no mail, no clock policy): they do not read wuzhuan.toml
        cfg = settings(ctx) if (write if with_settings is None else with_settings) else None
        obj["store"] = service.open_store(obj.get("db"), cfg, readonly=not write)
        ctx.call_on_close(obj["store"].dispose)
    return obj["store"]


def reader(ctx: click.Context, with_settings: bool = False):
    return store(ctx, write=False, with_settings=with_settings)


def calendar_source(ctx: click.Context):
    """The database's calendar, or None (the built-in holiday data) when there is no wuzhuan database yet."""
    from workflow.errors import SchemaOutdated

    try:
        return reader(ctx)
    except SchemaOutdated:
        return None


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO time (e.g. 2026-03-01T09:00+08:00)", param_hint="--now") from None
    if t.tzinfo is None:
        from workflow.calendar import TZ

        t = t.replace(tzinfo=TZ)
    try:
        return t.astimezone(UTC)
    except (OverflowError, ValueError):
        raise click.BadParameter(f"'{value}' is outside the years 1970–2199", param_hint="--now") from None


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"'{v}' should be name=value", param_hint=what)
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out




def emit(data: Any, as_json: bool, text=None) -> None:
    if as_json or text is None:
        from workflow.encode import (
            dumps,  # not at import: `wuzhuan --help` loads no more than it shows
        )

        click.echo(dumps(data, indent=2))
    else:
        text(data)


ITEM_ID = click.IntRange(1, 2**63 - 1)
def table(rows: list[list[Any]], headers: list[str]) -> None:
    from workflow.terminal import table_text

    click.echo(table_text(rows, headers))


def line(text: Any, limit: int = 300) -> str:
    """A value from users, safe to print on a terminal line."""
    from workflow.terminal import line as safe_line

    return safe_line(text, limit)


json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
scorecard_opt = click.option("--scorecard", "card", type=click.Path(dir_okay=False), metavar="FILE",
                             help="A scorecard YAML file (default: the built-in \"251\" one).")
now_opt = click.option("--now", "now", metavar="ISO-TIME", help="Act as of this time (default: the current time).")
actor_opt = click.option("--actor", envvar="WUZHUAN_ACTOR", required=True, metavar="PERSON",
                         help="Code of the person acting (or WUZHUAN_ACTOR).")
viewer_opt = click.option("--actor", metavar="PERSON",
                          help="Read as this person sees it (default: the operator at this shell, who sees everything).")
admin_opt = click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON",
                         help="Code of the administrator acting (or WUZHUAN_ACTOR).")


def one_of_dry_run_apply(dry_run: bool, apply_: bool) -> None:
    """Commands that change many things at once are looked at first: exactly one of --dry-run and --apply."""
    if dry_run == apply_:
        raise click.UsageError("give exactly one of --dry-run or --apply")
