"""`wuzhuan calendar`: working days, holidays and deadline arithmetic."""

from __future__ import annotations

import click

from commands.base import (
    admin_opt,
    calendar_source,
    emit,
    json_opt,
    now_opt,
    parse_now,
    store,
    table,
)


@click.group("calendar")
def calendar_group() -> None:
    """Working days, holidays and 调休, and deadline arithmetic."""


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1970, 2199))
@json_opt
@click.pass_context
def calendar_show(ctx, year, as_json) -> None:
    """Holidays and make-up workdays of YEAR."""
    from workflow import service

    def text(d):
        click.echo(f"{d.year}: {d.workdays} working days" + ("" if d.exact else "  （暂定：未导入国务院放假通知，按周末和法定节假日规则推算）"))
        table([[x.date, x.weekday, "上班" if x.workday else "休", x.name] for x in d.days], ["日期", "", "", "名称"])
    emit(service.calendar_year(calendar_source(ctx), year), as_json, text)


@calendar_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@admin_opt
@now_opt
@json_opt
@click.pass_context
def calendar_import(ctx, file, actor, now, as_json) -> None:
    """Load a year's State Council holiday notice and recompute provisional deadlines (an administrator)."""
    from workflow import service

    r = service.import_calendar(store(ctx), actor, file, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.year}: {d.holidays} holidays and {d.workdays} make-up workdays from {d.source}; "
                                          f"{d.recomputed_steps} provisional deadlines recomputed"))


@calendar_group.command("due")
@click.option("--from", "start", required=True, metavar="DATE")
@click.option("--amount", type=click.IntRange(1, 10**6), required=True)
@click.option("--unit", type=click.Choice(["workdays", "days", "months", "hours"]), required=True)
@click.option("--before", is_flag=True, help="Count back from DATE (e.g. 20 days before a meeting).")
@click.option("--no-calendar", is_flag=True, help="Every day counts (a template with calendar: none).")
@json_opt
@click.pass_context
def calendar_due(ctx, start, amount, unit, before, no_calendar, as_json) -> None:
    """The due time of a period, with the rule applied, to check a date by hand."""
    from workflow import service

    d = service.calendar_due(None if no_calendar else calendar_source(ctx), start, amount, unit, before, every_day=no_calendar)
    emit(d, as_json, lambda x: click.echo(f"{x.due}  ({x.rule})" + ("  暂定" if x.provisional else "")))
