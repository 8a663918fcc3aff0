"""`wuzhuan news`: 最新动态 — what happened on the items a person may see since he last looked."""

from __future__ import annotations

import click

from commands.base import actor_opt, emit, json_opt, now_opt, parse_now, store


@click.command("news")
@actor_opt
@click.option("--mark", is_flag=True, help="Count this look as his last, as opening /news on the workbench does.")
@now_opt
@json_opt
@click.pass_context
def news(ctx, actor, mark, now, as_json) -> None:
    """最新动态 for --actor: events on the items he may see since he last looked (not his own), newest first."""
    from workflow.service import personal

    r = personal.news(store(ctx), actor, parse_now(now), mark=mark)

    def text(d) -> None:
        head = f"自上次查看（{d.since}）以来" if d.since else "近来"
        click.echo(f"{head}共 {d.total} 条动态" if d.total else f"{head}没有新的动态")
        for e in d.entries:
            move = f" {e.from_label} → {e.to_label}" if e.from_label and e.to_label and e.from_label != e.to_label else ""
            click.echo(f"  {e.at}  #{e.item} {e.title}  {e.actor or '系统'} {e.kind_label}{move}" + (f"：{e.text}" if e.text else ""))
    emit(r, as_json, text)
