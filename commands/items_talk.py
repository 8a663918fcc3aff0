"""`wuzhuan items comment`, `remind`, `acknowledge` and `return`: 沟通, 催办, 签收 and 退回 on an item."""

from __future__ import annotations

import click

from commands.base import ITEM_ID, actor_opt, emit, json_opt, now_opt, parse_now, store


@click.command("comment")
@click.argument("item", type=ITEM_ID)
@click.option("--text", required=True, help="The comment (at most 2,000 characters).")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_comment(ctx, item, text, actor, now, as_json) -> None:
    """Add a comment to ITEM's thread (沟通); the current step's owners are told."""
    from workflow import service

    r = service.comment(store(ctx), actor, item, text, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.item} 已留言" + (f"，已通知{'、'.join(d.notified)}" if d.notified else "")))


@click.command("remind")
@click.argument("item", type=ITEM_ID)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_remind(ctx, item, actor, now, as_json) -> None:
    """催办: send ITEM's current step owners a reminder now (the office or the group lead; once a day a step)."""
    from workflow import service

    r = service.remind(store(ctx), actor, item, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.item} 已催办「{d.step}」：{'、'.join(d.to)}"))


@click.command("acknowledge")
@click.argument("item", type=ITEM_ID)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_acknowledge(ctx, item, actor, now, as_json) -> None:
    """签收: the current step's owner acknowledges ITEM's step as his to do (once a step)."""
    from workflow import service

    r = service.acknowledge(store(ctx), actor, item, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.item} 「{d.step}」已由{d.by}签收"))


@click.command("return")
@click.argument("item", type=ITEM_ID)
@click.option("--reason", required=True, help="Why the step is not yours (the office reads it and reassigns).")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_return(ctx, item, reason, actor, now, as_json) -> None:
    """退回: the current step's owner returns a misassigned ITEM to the office, which reassigns it."""
    from workflow import service

    r = service.return_item(store(ctx), actor, item, reason, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.item} 「{d.step}」已退回，已通知{'、'.join(d.notified)}重新交办"))
