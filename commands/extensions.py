"""`wuzhuan extensions`: extension requests decided."""

from __future__ import annotations

import click

from commands.base import ITEM_ID, actor_opt, emit, json_opt, now_opt, parse_now, store


@click.group()
def extensions() -> None:
    """Decide on extension requests."""


def _decide(ctx, request, actor, comment, now, approve: bool, as_json: bool) -> None:
    from workflow import service

    r = service.decide_extension(store(ctx), actor, request, approve, parse_now(now), comment)
    emit(r, as_json, lambda d: click.echo(f"{d.id} 延期申请{'已批准' if d.status == 'approved' else '未批准'}：事项 {d.item} 时限 {d.due}"))


@extensions.command("approve")
@click.argument("request", type=ITEM_ID)
@click.option("--comment")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def extensions_approve(ctx, request, comment, actor, now, as_json) -> None:
    """Approve: the step's due time and escalation ladder move to the new day (not by the requester)."""
    _decide(ctx, request, actor, comment, now, True, as_json)


@extensions.command("reject")
@click.argument("request", type=ITEM_ID)
@click.option("--comment")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def extensions_reject(ctx, request, comment, actor, now, as_json) -> None:
    """Reject: the due time stays."""
    _decide(ctx, request, actor, comment, now, False, as_json)
