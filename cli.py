"""The `wuzhuan` entry point: the root group and its options; each command group lives in the commands package."""

from __future__ import annotations

import os
import sys

import click

from commands import (
    audit,
    calendar,
    db,
    definitions,
    demo,
    escalation,
    extensions,
    items,
    meetings,
    people,
    reports,
    serve,
)
from commands.base import EXIT_CODES, App

MODULES = (audit, calendar, db, definitions, demo, escalation, extensions, items, meetings, people, reports, serve)


@click.group(cls=App, epilog=EXIT_CODES)
@click.option("--db", envvar="WUZHUAN_DATABASE_URL", metavar="URL",
              help="Database URL (default sqlite:///wuzhuan.db; or WUZHUAN_DATABASE_URL).")
@click.option("--config", type=click.Path(dir_okay=False), metavar="FILE", help="Settings file (default wuzhuan.toml if present).")
@click.version_option(package_name="wuzhuan")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None) -> None:
    """wuzhuan — 五专 full-chain supervision workflows for People's Congress standing committees."""
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, config=config)


for module in MODULES:
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    try:
        cli(obj={}, prog_name="wuzhuan")
    except BrokenPipeError:  # `wuzhuan items list | head`: the reader has all it wanted
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - closed by the interpreter at exit
        finally:
            os._exit(0)


if __name__ == "__main__":
    main()
