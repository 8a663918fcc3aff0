"""`wuzhuan escalate`, `outbox` and `scheduler`: rungs fired, notices delivered, the sweep run."""

from __future__ import annotations

import click

from commands.base import (
    ITEM_ID,
    admin_opt,
    emit,
    json_opt,
    now_opt,
    parse_now,
    reader,
    settings,
    store,
    table,
)


@click.command()
@click.option("--once", is_flag=True, required=True, help="Run one sweep and exit (for cron); `scheduler run` loops.")
@now_opt
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 10_000))
@json_opt
@click.pass_context
def escalate(ctx, once, now, batch, as_json) -> None:
    """Fire every escalation rung due now, each exactly once, and queue its notices."""
    from workflow import service

    r = service.sweep(store(ctx), parse_now(now), batch=batch)
    emit(r, as_json, lambda d: click.echo(f"sweep: {d.fired} rungs fired, {d.skipped} skipped, "
                                          f"{d.queued} notices queued ({d.steps} steps looked at)"))


@click.group()
def outbox() -> None:
    """Queued notices: deliver, list, retry."""


@outbox.command("deliver")
@now_opt
@json_opt
@click.pass_context
def outbox_deliver(ctx, now, as_json) -> None:
    """Send pending messages by SMTP, or write .eml files when no SMTP host is configured."""
    from workflow import service

    cfg = settings(ctx)
    r = service.deliver_with(store(ctx), parse_now(now))
    where = f"SMTP {cfg.smtp_host}:{cfg.smtp_port}" if cfg.smtp_host else f"files in {cfg.outbox_dir}/"
    emit(r, as_json, lambda d: click.echo(f"delivered {d.sent} ({where}), {d.failed} to retry, {d.dead} dead"))


OUTBOX_STATUS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "dead": "已失败"}


@outbox.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "dead"]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@json_opt
@click.pass_context
def outbox_list(ctx, status, limit, as_json) -> None:
    """Messages, newest first."""
    from workflow import service

    emit(service.list_outbox(reader(ctx), status, limit), as_json, lambda r: table(
        [[x.id, OUTBOX_STATUS.get(x.status, x.status), x.attempts, x.notice,
          ("群机器人 " if x.channel == "webhook" else "") + x.to + (f"；抄送 {x.cc}" if x.cc else ""), x.subject or "",
          (x.last_error or "")[:60]] for x in r],
        ["id", "状态", "次数", "通知", "收件人", "主题", "最近错误"]))


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=ITEM_ID)
@click.option("--all", "all_dead", is_flag=True, help="Retry every dead message.")
@admin_opt
@now_opt
@json_opt
@click.pass_context
def outbox_retry(ctx, ids, all_dead, actor, now, as_json) -> None:
    """Make dead messages pending again (an administrator)."""
    from workflow import service

    if not ids and not all_dead:
        raise click.UsageError("give message ids or --all")
    r = service.retry_outbox(store(ctx), actor, parse_now(now), list(ids) or None)
    emit(r, as_json, lambda d: click.echo(f"{d.count} message(s) pending again"))


@click.group()
def scheduler() -> None:
    """The escalation scheduler."""


@scheduler.command("run")
@click.option("--sweep-seconds", type=click.IntRange(1, 86400), help="Seconds between sweeps (default from settings: 60).")
@click.option("--deliver-seconds", type=click.IntRange(1, 86400), help="Seconds between deliveries (default from settings: 30).")
@json_opt
@click.pass_context
def scheduler_run(ctx, sweep_seconds, deliver_seconds, as_json) -> None:
    """Sweep and deliver on intervals in the foreground until SIGTERM/SIGINT."""
    from workflow.scheduler import run

    cfg = settings(ctx)
    totals = run(store(ctx), sweep_seconds or cfg.sweep_seconds, deliver_seconds or cfg.deliver_seconds)
    if as_json:
        emit(totals, True)
