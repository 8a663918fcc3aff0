"""The `wuzhuan` entry point: the root group and its options; each command group lives in the commands package."""

from __future__ import annotations

import importlib
import os
import sys

import click

from commands.base import EXIT_CODES, App

# name → (module, attribute, the first line of its help). A command's module is imported only when that command
# runs, so `wuzhuan --help` and every command load no other command's module; tests/test_cli.py checks each line
# here against the command itself. A new command group: its module in commands/, and a line here.
COMMANDS = {
    "activities": ("commands.activities", "activities_group", "我监督: announce an activity, deputies sign up, the organiser confirms attendance (签到)."),
    "audit": ("commands.audit", "audit_group", 'The hash-chained audit trail.'),
    "calendar": ("commands.calendar", "calendar_group", 'Working days, holidays and 调休, and deadline arithmetic.'),
    "config": ("commands.serve", "config_group", 'Settings from wuzhuan.toml and WUZHUAN_* variables.'),
    "db": ("commands.db", "db", 'Database schema.'),
    "definitions": ("commands.definitions", "definitions", 'Process templates: validate, show, draw, publish.'),
    "demo": ("commands.demo", "demo", 'Run the real engine on a fresh SQLite database: a year of five special supervision items.'),
    "deputies": ("commands.deputies", "deputies_group", "The deputies (人大代表) of five levels: their mandates from the people files."),
    "escalate": ("commands.escalation", "escalate", 'Fire every escalation rung due now, each exactly once, and queue its notices.'),
    "extensions": ("commands.extensions", "extensions", 'Decide on extension requests.'),
    "items": ("commands.items", "items", 'Supervision items: create, list, show, advance, set, assign, pause, extend, history.'),
    "meetings": ("commands.meetings", "meetings", 'Meetings (常委会会议, 主任会议, …) that items refer to: add, list, move.'),
    "news": ("commands.news", "news", "最新动态 for --actor: events on the items he may see since he last looked (not his own), newest first."),
    "orgs": ("commands.orgs", "orgs_group", "Organisations: the People's Congresses (市·县区·乡镇) of this deployment."),
    "outbox": ("commands.escalation", "outbox", 'Queued notices: deliver, list, retry.'),
    "people": ("commands.people", "people_group", 'People, organisation units and their roles.'),
    "proposals": ("commands.proposals", "proposals_group", "我献策: deputies' proposals (建议/建言), co-signed (联名) and screened by the office."),
    "report": ("commands.reports", "report", "比进度·比创新·比质效: the board, the 台账 (ledger), the year's results report, the 通报 digest."),
    "scheduler": ("commands.escalation", "scheduler", 'The escalation scheduler.'),
    "scores": ("commands.reports", "scores", "比创新: the evaluators' scores of the units compared."),
    "serve": ("commands.serve", "serve", "Run the workbench (督办工作台) for people's browsers and the JSON API, until SIGTERM/SIGINT."),
}


class Lazy(App):
    """The root group: lists the commands from COMMANDS, imports one only to run it (or show its own help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _help = COMMANDS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = formatter.width - 6 - max(len(n) for n in COMMANDS)
        rows = [(n, click.utils.make_default_short_help(COMMANDS[n][2], width)) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=Lazy, epilog=EXIT_CODES)
@click.option("--db", envvar="WUZHUAN_DATABASE_URL", metavar="URL",
              help="Database URL (default sqlite:///wuzhuan.db; or WUZHUAN_DATABASE_URL).")
@click.option("--config", type=click.Path(dir_okay=False), metavar="FILE", help="Settings file (default wuzhuan.toml if present).")
@click.version_option(package_name="wuzhuan")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None) -> None:
    """wuzhuan — 五专 full-chain supervision workflows for People's Congress standing committees."""
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, config=config)


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
