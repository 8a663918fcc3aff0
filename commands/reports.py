"""`wuzhuan report` and `wuzhuan scores`: the board, the 台账, the results report and the evaluators' scores."""

from __future__ import annotations

import contextlib
import io
import os

import click

from commands.base import (
    actor_opt,
    admin_opt,
    emit,
    json_opt,
    now_opt,
    parse_now,
    reader,
    scorecard_opt,
    store,
    table,
    viewer_opt,
)


def _write(output: str | None, fmt: str, write_text=None, write_binary=None) -> None:
    """Write a report to `output` (a new file, written whole then renamed into place) or, for text, to stdout."""
    import tempfile

    if output in (None, "-"):
        if write_binary is not None:
            raise click.UsageError(f"--format {fmt} writes a binary file: give --output FILE")
        buf = io.StringIO()
        write_text(buf)
        click.echo(buf.getvalue(), nl=False)
        return
    target = os.path.abspath(output)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise click.BadParameter(f"no folder '{folder}'", param_hint="--output")
    if os.path.lexists(target) and not os.path.isfile(target) or os.path.islink(target):
        # a folder, a device (/dev/full), a pipe or a link: never replaced by a report
        raise click.BadParameter(f"'{output}' exists and is not a regular file: name a file to write", param_hint="--output")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".wuzhuan-", suffix="." + fmt)
    try:
        if write_binary is not None:
            os.close(fd)
            write_binary(tmp)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                write_text(f)
        os.replace(tmp, target)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):  # the disk full, no permission: said in one line, nothing left behind
            raise click.BadParameter(f"cannot write '{output}': {e.strerror or e}", param_hint="--output") from None
        raise
    click.echo(f"wrote {output}", err=True)


@click.group()
def report() -> None:
    """比进度·比创新·比质效: the board, the 台账 (ledger), the year's results report, the 通报 digest."""


@report.command("board")
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="The day the board is as of.")
@click.option("--previous", metavar="DATE", help="An earlier day: each unit's rank then, and the change.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "xlsx"]), default="table", show_default=True)
@click.option("--output", metavar="FILE", help="Write to FILE (required for xlsx).")
@scorecard_opt
@viewer_opt
@click.pass_context
def report_board(ctx, as_of, previous, fmt, output, card, actor) -> None:
    """One row per unit: each metric, the weighted score, rank and previous rank, the 双亮牌 colour. With --actor,
    the units that office or council member may look over (his 人大 and those below)."""
    from workflow import report_render, service

    b = service.board_for(reader(ctx), actor or service.OPERATOR, as_of, previous, card)
    if fmt == "table":
        def text(out):
            rows, header = report_render.board_table(b)
            out.write(f"{b.title} — 截至 {b.as_of}" + (f"（上期 {b.previous}）" if b.previous else "") + "\n")
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                table(rows, header)
            out.write(buf.getvalue())
        _write(output, fmt, text)
    elif fmt == "json":
        _write(output, fmt, lambda out: out.write(report_render.as_json(b) + "\n"))
    elif fmt == "html":
        _write(output, fmt, lambda out: out.write(report_render.board_html(b)))
    else:
        _write(output, fmt, write_binary=lambda path: report_render.board_xlsx(b, path))


@report.command("ledger")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), required=True)
@click.option("--output", required=True, metavar="FILE", help="Write to FILE ('-': stdout, for csv and json).")
@click.option("--template", default="special_supervision", show_default=True, help="The template whose items are listed.")
@click.option("--year", type=click.IntRange(1970, 2199), help="Only items created in this year.")
@now_opt
@viewer_opt
@click.pass_context
def report_ledger(ctx, fmt, output, template, year, now, actor) -> None:
    """The 台账: one row per item, one column group per step (entered, due, finished, light, days late), fields, owner.
    With --actor, the items of that office or council member's own 人大."""
    from workflow import ledger_render, service

    ledger = service.ledger_for(reader(ctx), actor or service.OPERATOR, parse_now(now), template, year)
    if fmt == "csv":
        _write(output, fmt, lambda out: ledger_render.ledger_csv(ledger, out))
    elif fmt == "json":
        _write(output, fmt, lambda out: ledger_render.ledger_json(ledger, out))
    else:
        _write(output, fmt, write_binary=lambda path: ledger_render.ledger_xlsx(ledger, path))


@report.command("results")
@click.option("--year", type=click.IntRange(1970, 2199), required=True)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), required=True)
@click.option("--output", required=True, metavar="FILE")
@scorecard_opt
@now_opt
@click.pass_context
def report_results(ctx, year, fmt, output, card, now) -> None:
    """The year's results report (成果报告): each item's timeline and rounds, the rankings, participation, charts."""
    from workflow import report_render, service

    r = service.results(reader(ctx), year, parse_now(now), card)
    if fmt == "html":
        _write(output, fmt, lambda out: out.write(report_render.results_html(r)))
    else:
        _write(output, fmt, write_binary=lambda path: report_render.results_pdf(r, path))


@report.command("digest")
@scorecard_opt
@now_opt
@json_opt
@click.pass_context
def report_digest(ctx, card, now, as_json) -> None:
    """Queue this period's 通报 to the council and the office, once per period (the scheduler does it too)."""
    from workflow import service

    r = service.send_digest(store(ctx), parse_now(now), card)
    emit(r, as_json, lambda d: click.echo(f"{d.period}：" + (f"已排队 {d.messages} 封通报" if d.sent else f"未发送（{d.reason}）")))


@report.command("recount")
@admin_opt
@now_opt
@json_opt
@click.pass_context
def report_recount(ctx, actor, now, as_json) -> None:
    """Count the board's progress again from the steps (an administrator; after loading or restoring rows by hand)."""
    from workflow import service

    r = service.recount_progress(store(ctx), actor, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"已重新统计进度：{d.rows} 行"))


@click.group()
def scores() -> None:
    """比创新: the evaluators' scores of the units compared."""


@scores.command("set")
@click.argument("unit")
@click.option("--score", required=True, type=click.IntRange(0, 100), help="0–100.")
@click.option("--comment", help="A short comment (at most 500 characters).")
@click.option("--year", type=click.IntRange(1970, 2199), help="The year scored (default: the year of --now).")
@scorecard_opt
@actor_opt
@now_opt
@json_opt
@click.pass_context
def scores_set(ctx, unit, score, comment, year, card, actor, now, as_json) -> None:
    """An evaluator's score for UNIT, once per evaluator, unit and year (audited)."""
    from workflow import service

    r = service.set_score(store(ctx), actor, unit, score, parse_now(now), comment=comment, year=year, card_path=card)
    emit(r, as_json, lambda d: click.echo(f"{d.unit_name}（{d.unit}）{d.year}年创新评分 {d.score}，评分人 {d.evaluator}"))


@report.command("orgs")
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="The day the figures are as of (its end).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
@click.option("--output", metavar="FILE", help="Write to FILE (required for xlsx).")
@viewer_opt
@click.pass_context
def report_orgs(ctx, as_of, fmt, output, actor) -> None:
    """Per organisation (市·县区·乡镇人大), each under the one above it: items open and closed, lights, on-time rate,
    working days late. With --actor, what that office or council member may look over (his 人大 and those below)."""
    from workflow import report_render, service

    roots = service.org_rollup(reader(ctx), actor or service.OPERATOR, as_of)
    if fmt == "xlsx":
        _write(output, fmt, write_binary=lambda path: report_render.orgs_xlsx(roots, as_of, path))
    elif fmt == "json":
        from workflow.encode import dumps

        _write(output, fmt, lambda out: out.write(dumps(roots, indent=2) + "\n"))
    else:
        def text(out):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                table([[("  " * depth) + cells[0], *cells[1:]] for depth, cells in report_render.orgs_table(roots)],
                      report_render.ORGS_HEADER)
            out.write(buf.getvalue())
        _write(output, fmt, text)
