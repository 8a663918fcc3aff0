"""`wuzhuan activities`: 我监督 — supervision activities announced to the deputies, sign-ups and confirmed attendance."""

from __future__ import annotations

import click

from commands.base import (
    ITEM_ID,
    actor_opt,
    emit,
    json_opt,
    now_opt,
    parse_now,
    reader,
    store,
    table,
    viewer_opt,
)


@click.group("activities")
def activities_group() -> None:
    """我监督: announce an activity, deputies sign up, the organiser confirms attendance (签到)."""


def _line(a) -> str:
    where = f"，{a.place}" if a.place else ""
    came = "、".join(p.name for p in a.people if p.attended)
    signed = "、".join(p.name for p in a.people if p.signed_up)
    return (f"活动 {a.id}：{a.kind} {a.day}{where}" + (f"（事项 {a.item}）" if a.item else "")
            + (f"；已报名：{signed}" if signed else "") + (f"；已签到：{came}" if a.confirmed else ""))


@activities_group.command("announce")
@click.option("--kind", required=True, help="视察, 调研, 执法检查, 座谈, 专题询问 or 列席 (the scorecard's activity_kinds).")
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD")
@click.option("--place")
@click.option("--item", type=ITEM_ID, help="The item it serves (its office or group lead announces it).")
@click.option("--note")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def activities_announce(ctx, kind, day, place, item, note, actor, now, as_json) -> None:
    """Announce a supervision activity to the deputies of its 人大."""
    from workflow.service import supervise

    r = supervise.announce(store(ctx), actor, kind=kind, day=day, now=parse_now(now), place=place, item=item, note=note)
    emit(r, as_json, lambda a: click.echo(_line(a)))


@activities_group.command("signup")
@click.argument("activity", type=ITEM_ID)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def activities_signup(ctx, activity, actor, now, as_json) -> None:
    """A deputy signs up for ACTIVITY, once, until its day is over."""
    from workflow.service import supervise

    emit(supervise.signup(store(ctx), actor, activity, parse_now(now)), as_json, lambda a: click.echo(_line(a)))


@activities_group.command("confirm")
@click.argument("activity", type=ITEM_ID)
@click.option("--deputy", "deputies", multiple=True, required=True, metavar="CODE", help="A deputy who attended (repeatable).")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def activities_confirm(ctx, activity, deputies, actor, now, as_json) -> None:
    """签到: the organiser confirms who attended ACTIVITY, once its day has come (never himself)."""
    from workflow.service import supervise

    emit(supervise.confirm(store(ctx), actor, activity, list(deputies), parse_now(now)), as_json,
         lambda a: click.echo(_line(a)))


@activities_group.command("list")
@viewer_opt
@json_opt
@click.pass_context
def activities_list(ctx, actor, as_json) -> None:
    """The announced activities --actor may read, the latest first (the operator at this shell: every one)."""
    from workflow import service
    from workflow.service import supervise

    rows = supervise.list_announcements(reader(ctx), actor or service.OPERATOR)
    emit(rows, as_json, lambda r: table(
        [[a.id, a.kind, a.day, a.place or "", a.item or "", a.organiser, sum(p.signed_up for p in a.people),
          sum(p.attended for p in a.people) if a.confirmed else "—"] for a in r],
        ["编号", "类别", "日期", "地点", "事项", "发布人", "报名", "签到"]))
