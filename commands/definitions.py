"""`wuzhuan definitions`: process templates validated, shown, drawn, previewed and published."""

from __future__ import annotations

from pathlib import Path

import click

from commands.base import (
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
from workflow import terminal


@click.group()
def definitions() -> None:
    """Process templates: validate, show, draw, publish."""


@definitions.command("validate")
@click.argument("paths", nargs=-1, required=True)
@json_opt
@click.pass_context
def definitions_validate(ctx: click.Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Check template files; print every problem as FILE:LINE:COL: message."""
    from workflow.templates import validate_paths

    defs = validate_paths(list(paths), settings(ctx).notice_dir)
    rows = [{"file": p, "key": d.key, "title": d.title, "states": len(d.states), "transitions": len(d.transitions),
             "hash": d.content_hash} for p, d in zip(paths, defs, strict=True)]
    emit({"valid": rows}, as_json, lambda _d: [click.echo(
        f"{r['file']}: ok — {r['key']} ({r['title']}), {r['states']} states, {r['transitions']} transitions, "
        f"version {r['hash'][:12]}") for r in rows])


def _template(ctx: click.Context, path_or_key: str):
    """A template file, or the newest published version of a key (the database is opened only for a key)."""
    from workflow import service
    from workflow.errors import WuzhuanError
    from workflow.templates import builtin, looks_like_file

    source = None
    if not looks_like_file(path_or_key):
        try:
            source = reader(ctx)
        except WuzhuanError:  # no database (yet): a built-in key still names a template
            if builtin(path_or_key) is None:
                raise
    return service.template(path_or_key, source, settings(ctx).notice_dir)


@definitions.command("show")
@click.argument("path_or_key")
@json_opt
@click.pass_context
def definitions_show(ctx: click.Context, path_or_key: str, as_json: bool) -> None:
    """States, owners, deadlines and transitions of a template (a file, or a published key)."""
    from workflow.present import describe

    data = describe(_template(ctx, path_or_key))

    def text(d):
        click.echo(terminal.template_text(d))

    emit(data, as_json, text)


@definitions.command("preview-notice")
@click.argument("path_or_key", metavar="TEMPLATE")
@click.argument("notice")
@click.option("--rung", help="Render as this rung of the template's ladders (its label, meaning, number and 限期).")
@click.option("--html", "as_html", is_flag=True, help="Print the HTML part instead of the text.")
@json_opt
@click.pass_context
def definitions_preview_notice(ctx, path_or_key, notice, rung, as_html, as_json) -> None:
    """Render NOTICE (reminder, duban_blue, duban_red, handover, …) with sample data as TEMPLATE would send it."""
    from workflow import service

    s = settings(ctx)
    p = service.preview_notice(_template(ctx, path_or_key), notice, rung, s.notice_dir, s.org_name, s.base_url)
    emit(p, as_json, lambda d: click.echo(d.html if as_html else f"Subject: {d.subject}\n\n{d.text}", nl=not as_html))


@definitions.command("diagram")
@click.argument("path_or_key")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Render to FILE.svg or FILE.png (needs Graphviz).")
@json_opt
@click.pass_context
def definitions_diagram(ctx: click.Context, path_or_key: str, fmt: str, output: str | None, as_json: bool) -> None:
    """The state diagram as Mermaid or Graphviz DOT text, or rendered to an image."""
    from workflow import diagram

    defn = _template(ctx, path_or_key)
    if output:
        warnings = diagram.render(diagram.dot(defn), Path(output))
        for warning in warnings:
            click.echo(f"Warning: {warning}", err=True)
        emit({"output": output, "warnings": warnings}, as_json, lambda _d: click.echo(f"wrote {output}"))
        return
    text = diagram.mermaid(defn) if fmt == "mermaid" else diagram.dot(defn)
    emit({"format": fmt, "text": text}, as_json, lambda _d: click.echo(text, nl=False))


@definitions.command("publish")
@click.argument("paths", nargs=-1, required=True)
@click.option("--org", metavar="CODE", help="Publish for this organisation and those below it (default: the root, for all).")
@admin_opt
@now_opt
@json_opt
@click.pass_context
def definitions_publish(ctx: click.Context, paths: tuple[str, ...], org: str | None, actor: str | None, now: str | None,
                        as_json: bool) -> None:
    """Store templates as immutable versions (an administrator); the same content again changes nothing."""
    from workflow import service

    st, t = store(ctx), parse_now(now)
    out = []
    for p in paths:
        r = service.publish(st, actor, p, t, org=org)
        out.append(r)
        if not as_json:
            click.echo(f"{p}: {'published' if r.created else 'unchanged'} {r.key} version {r.version} ({r.hash[:12]})")
    if as_json:
        emit({"published": out}, True)


@definitions.command("list")
@json_opt
@click.pass_context
def definitions_list(ctx: click.Context, as_json: bool) -> None:
    """Published template versions."""
    from workflow import service

    rows = service.template_versions(reader(ctx))
    emit(rows, as_json, lambda r: table([[x.id, x.key, x.title, x.hash[:12], (x.published_at or "")[:16].replace("T", " "),
                                          x.published_by] for x in r],
                                        ["version", "key", "名称", "hash", "发布时间", "发布人"]))
