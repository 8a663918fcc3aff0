"""`wuzhuan meetings`: the meetings items count from."""

from __future__ import annotations

import click

from commands.base import (
    ITEM_ID,
    actor_opt,
    emit,
    json_opt,
    line,
    now_opt,
    one_of_dry_run_apply,
    parse_now,
    reader,
    store,
    table,
)


@click.group()
def meetings() -> None:
    """Meetings (常委会会议, 主任会议, …) that items refer to: add, list, move."""


@meetings.command("add")
@click.option("--kind", required=True, help="常委会会议, 主任会议, …")
@click.option("--date", "day", required=True, metavar="DATE")
@click.option("--title", required=True)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def meetings_add(ctx, kind, day, title, actor, now, as_json) -> None:
    """Add a meeting (the office, the council or an administrator); items name it by its number."""
    from workflow import service

    r = service.add_meeting(store(ctx), actor, kind, day, title, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.id} 会议已登记：{d.kind} {d.day} {line(d.title)}"))


@meetings.command("list")
@click.option("--since", metavar="DATE", help="Only meetings on or after DATE.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@json_opt
@click.pass_context
def meetings_list(ctx, since, limit, as_json) -> None:
    """Meetings by date."""
    from workflow import service

    emit(service.list_meetings(reader(ctx), since, limit), as_json, lambda r: table(
        [[m.id, m.day, m.kind, m.title, "已改期" if m.moved_at else ""] for m in r], ["id", "日期", "类别", "名称", ""]))


@meetings.command("move")
@click.argument("meeting", type=ITEM_ID)
@click.option("--to", "day", required=True, metavar="DATE")
@click.option("--dry-run", "dry_run", is_flag=True, help="List the deadlines that would move, change nothing.")
@click.option("--apply", "apply_", is_flag=True, help="Move the meeting and every deadline counted from it.")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def meetings_move(ctx, meeting, day, dry_run, apply_, actor, now, as_json) -> None:
    """Move MEETING to another day: every open step counted from it gets its due time recomputed, its owner a notice."""
    from workflow import service

    one_of_dry_run_apply(dry_run, apply_)
    r = service.move_meeting(store(ctx), actor, meeting, day, parse_now(now), apply=apply_)

    def text(d):
        click.echo(f"{d.meeting} 会议{'已' if d.applied else '（试运行，未改动）将'}由 {d.old_day} 改期至 {d.day}；"
                   f"以其计算时限的事项 {len(d.items)} 个")
        table([[x.item, line(x.title, 40), x.state_label, x.field, f"{x.old_due} → {x.new_due}", "、".join(x.notified)]
               for x in d.items], ["id", "标题", "环节", "字段", "时限", "已通知"])
    emit(r, as_json, text)
