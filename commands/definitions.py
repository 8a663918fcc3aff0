"""`wuzhuan definitions`: process templates validated, shown, drawn, previewed and published."""

from __future__ import annotations

from pathlib import Path

import click

from commands.base import (
    admin_opt,
    emit,
    json_opt,
    line,
    now_opt,
    parse_now,
    reader,
    settings,
    store,
    table,
)


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
        cal = {"cn": "中国工作日（含调休）", "none": "自然日"}.get(d["calendar"], d["calendar"])
        click.echo(f"{d['title']} ({d['key']}, 版本 {d['version']}, 日历 {cal})")
        if d["description"]:
            click.echo(line(d["description"], 400))
        click.echo(f"起始环节 {d['initial']}   交办通知 {d['handover_notice'] or '—'}   督办单编号 {d['slip_pattern']}")
        if d["urgency"]:
            click.echo(f"紧急程度 字段 {d['urgency']['field']}：" + "、".join(f"{k}→{v}" for k, v in d["urgency"]["start_rung"].items()))
        click.echo("\n角色:")
        table([[r["role"], r["label"], "、".join(r["assignable_by"])] for r in d["roles"]], ["role", "名称", "可由谁指定"])
        click.echo("\n字段:")
        table([[f["name"], f["label"], f["type"], "、".join(map(str, f["choices"])) if f["choices"] else
                (f"计票：{f['tally']['for']}/{f['tally']['members']}（{'、'.join(f['tally']['results'])}）" if f["tally"] else ""),
                "是" if f["keep"] else "", "、".join(f["editable_by"]) if f["editable_by"] is not None else "（默认）"]
               for f in d["fields"]], ["field", "名称", "类型", "选项", "跨轮保留", "可修改"])
        if d["counters"]:
            click.echo("计数器: " + "；".join(f"{k}（{v}）" for k, v in d["counters"].items()))
        click.echo("\n环节:")
        for st in d["states"]:
            if st["final"]:
                click.echo(f"  {st['name']}  {st['label']}  （终点）")
                continue
            click.echo(f"  {st['name']}  {st['label']}  承办 {st['owner']}" + (f"  标签 {'、'.join(st['tags'])}" if st["tags"] else ""))
            click.echo(f"      时限 {st['deadline']}" + (f"；黄灯 {st['yellow']}" if st["yellow"] else "")
                       + f"；督办 {st['ladder']}")
            click.echo(f"      可挂起 {'、'.join(st['pause_roles']) or '—'}；批准延期 {'、'.join(st['extension_approvers']) or '—'}"
                       f"；抄送 {'、'.join(st['cc']) or '—'}")
        click.echo("\n督办级别:")
        seen = set()
        rows = []
        for s in d["states"]:
            for r in s["rungs"]:
                key = tuple(sorted((k, str(v)) for k, v in r.items()))
                if key not in seen:
                    seen.add(key)
                    rows.append([r["rung"], r["label"], r["when"], "、".join(r["notify"]), r["notice"], r["limit"] or "",
                                 "是" if r["slip"] else "", r["meaning"]])
        table(rows, ["rung", "名称", "时间", "通知", "通知模板", "新限期", "编号", "含义"])
        click.echo("\n流转:")
        table([[t["trigger"], t["label"], " | ".join(t["from"]) + " → " + t["to"], "、".join(t["roles"]),
                "、".join(t["requires"]), "; ".join(t["guards"]), "需说明" if t["comment_required"] else "",
                "、".join(t["increments"])] for t in d["transitions"]],
              ["trigger", "名称", "from → to", "角色", "需填写", "条件", "意见", "计数"])
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
@admin_opt
@now_opt
@json_opt
@click.pass_context
def definitions_publish(ctx: click.Context, paths: tuple[str, ...], actor: str | None, now: str | None, as_json: bool) -> None:
    """Store templates as immutable versions (an administrator); the same content again changes nothing."""
    from workflow import service

    st, t = store(ctx), parse_now(now)
    out = []
    for p in paths:
        r = service.publish(st, actor, p, t)
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
