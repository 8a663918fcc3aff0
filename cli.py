"""The `wuzhuan` command line: parse, call one use case of workflow.service, print; errors become exit codes."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

EXIT_CODES = "Exit codes: 0 ok, 2 invalid input or not found, 3 not permitted, 4 changed meanwhile (look again), 1 a bug."


# --- plumbing -------------------------------------------------------------------------------------

class DomainError(click.ClickException):
    def __init__(self, err: Exception):
        super().__init__(str(err))
        self.exit_code = getattr(err, "exit_code", 1)
        self.problems = getattr(err, "problems", None)

    def show(self, file=None) -> None:
        if self.problems and len(self.problems) > 1:
            click.echo(f"Error: {len(self.problems)} problems found:", err=True)
            for p in self.problems:
                click.echo(str(p), err=True)
        else:
            from workflow.present import safe

            click.echo(f"Error: {safe(self.message, 2000)}", err=True)


class App(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        from workflow.errors import WuzhuanError

        try:
            return super().invoke(ctx)
        except WuzhuanError as e:
            raise DomainError(e) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as e:  # a bug: say so in one line, keep the traceback for WUZHUAN_DEBUG
            if os.environ.get("WUZHUAN_DEBUG"):
                raise
            click.echo(f"Error: internal error ({type(e).__name__}: {e}); this is a bug in wuzhuan — "
                       "run again with WUZHUAN_DEBUG=1 for the traceback and report it", err=True)
            ctx.exit(1)


def settings(ctx: click.Context):
    obj = ctx.find_root().obj
    if obj.get("settings") is None:
        from workflow.config import load_settings

        obj["settings"] = load_settings(obj.get("config"))
    return obj["settings"]


def store(ctx: click.Context, write: bool = True, with_settings: bool | None = None):
    """The database: read commands open it read-only (on SQLite they never wait behind a writer)."""
    obj = ctx.find_root().obj
    if obj.get("store") is None:
        from workflow import service

        # most reads need no settings (no mail, no clock policy): they do not read wuzhuan.toml
        cfg = settings(ctx) if (write if with_settings is None else with_settings) else None
        obj["store"] = service.open_store(obj.get("db"), cfg, readonly=not write)
        ctx.call_on_close(obj["store"].dispose)
    return obj["store"]


def reader(ctx: click.Context, with_settings: bool = False):
    return store(ctx, write=False, with_settings=with_settings)


def calendar_source(ctx: click.Context):
    """The database's calendar, or None (the built-in holiday data) when there is no wuzhuan database yet."""
    from workflow.errors import SchemaOutdated

    try:
        return reader(ctx)
    except SchemaOutdated:
        return None


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO time (e.g. 2026-03-01T09:00+08:00)", param_hint="--now") from None
    if t.tzinfo is None:
        from workflow.calendar import TZ

        t = t.replace(tzinfo=TZ)
    try:
        return t.astimezone(UTC)
    except (OverflowError, ValueError):
        raise click.BadParameter(f"'{value}' is outside the years 1970–2199", param_hint="--now") from None


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"'{v}' should be name=value", param_hint=what)
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def plain(data: Any) -> Any:
    """Dataclasses, dates and the rest as JSON values."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f.name: plain(getattr(data, f.name)) for f in dataclasses.fields(data)}
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    if isinstance(data, datetime | date):
        return data.isoformat()
    return data


def emit(data: Any, as_json: bool, text=None) -> None:
    if as_json or text is None:
        click.echo(json.dumps(plain(data), ensure_ascii=False, indent=2, default=str))
    else:
        text(data)


CELL = 48  # columns a table cell may take before it is cut with …


def table(rows: list[list[Any]], headers: list[str]) -> None:
    from workflow.present import safe, width

    cells = [[safe(c, CELL) for c in r] for r in [headers] + rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        click.echo("  ".join(c + " " * (widths[i] - width(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def line(text: Any, limit: int = 300) -> str:
    """A value from users, safe to print on a terminal line."""
    from workflow.present import safe

    return safe(text, limit)


json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
scorecard_opt = click.option("--scorecard", "card", type=click.Path(dir_okay=False), metavar="FILE",
                             help="A scorecard YAML file (default: the built-in \"251\" one).")
now_opt = click.option("--now", "now", metavar="ISO-TIME", help="Act as of this time (default: the current time).")
actor_opt = click.option("--actor", envvar="WUZHUAN_ACTOR", required=True, metavar="PERSON",
                         help="Code of the person acting (or WUZHUAN_ACTOR).")
admin_opt = click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON",
                         help="Code of the administrator acting (or WUZHUAN_ACTOR).")


@click.group(cls=App, epilog=EXIT_CODES)
@click.option("--db", envvar="WUZHUAN_DATABASE_URL", metavar="URL",
              help="Database URL (default sqlite:///wuzhuan.db; or WUZHUAN_DATABASE_URL).")
@click.option("--config", type=click.Path(dir_okay=False), metavar="FILE", help="Settings file (default wuzhuan.toml if present).")
@click.version_option(package_name="wuzhuan")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None) -> None:
    """wuzhuan — 五专 full-chain supervision workflows for People's Congress standing committees."""
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, config=config)


# --- db -------------------------------------------------------------------------------------------

@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_opt
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool) -> None:
    """Apply schema migrations (also done automatically on an empty database)."""
    from workflow import service

    r = service.upgrade_schema(ctx.find_root().obj.get("db"), settings(ctx))
    data = {"before": r.before, "after": r.after, "made_admins": [{"code": c, "name": n} for c, n in r.made_admins],
            "admins": [{"code": c, "name": n} for c, n in r.admins]}

    def text(_d) -> None:
        click.echo(f"schema at {r.after}" + (f" (was {r.before})" if r.before != r.after else " (already current)"))
        if r.made_admins:
            click.echo("administrators made by this upgrade (members of the office; the schema before had none): "
                       + "、".join(f"{n} ({c})" for c, n in r.made_admins))
        if r.trail_broken:
            click.echo("warning: the upgrade is not in the audit trail: its head does not match its events "
                       "(run `wuzhuan audit verify`)", err=True)
        if r.before is not None and not r.admins:
            click.echo("warning: nobody is an administrator: name one with `wuzhuan people set-admin CODE`", err=True)
    emit(data, as_json, text)


# --- definitions ----------------------------------------------------------------------------------

@cli.group()
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


# --- people ---------------------------------------------------------------------------------------

@cli.group("people")
def people_group() -> None:
    """People, organisation units and their roles."""


@people_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@admin_opt
@now_opt
@json_opt
@click.pass_context
def people_import(ctx: click.Context, file: str, actor: str | None, now: str | None, as_json: bool) -> None:
    """Create or update people, units and memberships from YAML or CSV (an administrator; the first import needs none)."""
    from workflow import service

    r = service.import_people(store(ctx), actor, file, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"imported {d.people} people, {d.units} units, {d.memberships} memberships"
                                          + (" (first import: no administrator needed)" if d.bootstrap else "")))


@people_group.command("set-password")
@click.argument("code")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (one line; the newline is not part of it).")
@json_opt
@click.pass_context
def people_set_password(ctx, code, password_stdin, as_json) -> None:
    """Set CODE's workbench password (at least 10 characters; argon2id); his open sessions end."""
    from workflow.service import accounts

    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if password.endswith("\r"):
        password = password[:-1]
    r = accounts.set_password(store(ctx), code, password, datetime.now(UTC))
    emit(r, as_json, lambda d: click.echo(f"password set for {d.person}" + (f"; {d.sessions_ended} session(s) ended" if d.sessions_ended else "")))


@people_group.command("set-admin")
@click.argument("code")
@click.option("--off", is_flag=True, help="Remove the administrator's rights instead (never the last one's).")
@json_opt
@click.pass_context
def people_set_admin(ctx, code, off, as_json) -> None:
    """Make CODE an administrator (or, with --off, no longer one); an operator at the server's shell, audited."""
    from workflow.service import accounts

    r = accounts.set_admin(store(ctx), code, not off, parse_now(None))
    emit(r, as_json, lambda d: click.echo(f"{d.person}: {d.what}"))


@people_group.command("disable")
@click.argument("code")
@json_opt
@click.pass_context
def people_disable(ctx, code, as_json) -> None:
    """Disable CODE: he can no longer log in or act; his sessions and API tokens end."""
    from workflow.service import accounts

    r = accounts.set_active(store(ctx), code, False, datetime.now(UTC))
    emit(r, as_json, lambda d: click.echo(f"{d.person} disabled; {d.sessions_ended} session(s) ended, {d.tokens_revoked} token(s) revoked"))


@people_group.command("enable")
@click.argument("code")
@json_opt
@click.pass_context
def people_enable(ctx, code, as_json) -> None:
    """Enable CODE again (a new password or token is still needed to use the workbench)."""
    from workflow.service import accounts

    r = accounts.set_active(store(ctx), code, True, datetime.now(UTC))
    emit(r, as_json, lambda d: click.echo(f"{d.person} enabled"))


@people_group.command("token")
@click.argument("code")
@json_opt
@click.pass_context
def people_token(ctx, code, as_json) -> None:
    """Make a new API token for CODE, printed once, on the last line (only its SHA-256 is kept)."""
    from workflow.service import accounts

    r = accounts.issue_token(store(ctx), code, datetime.now(UTC))
    emit(r, as_json, lambda d: click.echo(f"API token {d.id} for {d.person} (shown once; revoke with `wuzhuan people revoke-token {d.person}`):\n{d.token}"))


@people_group.command("revoke-token")
@click.argument("code")
@click.option("--id", "token_id", type=click.IntRange(1, 2**31 - 1), help="Revoke only this token (default: all of CODE's).")
@json_opt
@click.pass_context
def people_revoke_token(ctx, code, token_id, as_json) -> None:
    """Revoke CODE's API tokens."""
    from workflow.service import accounts

    r = accounts.revoke_token(store(ctx), code, datetime.now(UTC), token_id)
    emit(r, as_json, lambda d: click.echo(f"{d.tokens_revoked} token(s) of {d.person} revoked"))


@people_group.command("list")
@json_opt
@click.pass_context
def people_list(ctx: click.Context, as_json: bool) -> None:
    """Everyone, with their units and roles."""
    from workflow import service

    rows = service.list_people(reader(ctx))
    emit(rows, as_json, lambda r: table(
        [[p.code, p.name, p.email, ("管理员" if p.admin else "") + ("" if p.active else " 已停用"),
          "; ".join(f"{x.role}@{x.unit}" for x in p.roles)] for p in r],
        ["code", "姓名", "email", "", "角色@单位"]))


# --- items ----------------------------------------------------------------------------------------

@cli.group()
def items() -> None:
    """Supervision items: create, list, show, advance, set, assign, pause, extend, history."""


def _fields_text(values: dict) -> str:
    return "; ".join(f"{k}={line('、'.join(map(str, v)) if isinstance(v, list) else v, 120)}" for k, v in values.items())


def _item_text(d, rounds: bool = False) -> None:
    click.echo(f"#{d.id} {line(d.title)}  [{d.template_title} · 版本 {d.template_version} ({d.template_hash})]")
    light = "已办结" if d.finished else f"{d.light_label}灯"
    click.echo(f"环节      {d.state_label} ({d.state})  {light}" + ("  已挂起" if d.paused else ""))
    click.echo(f"承办      {d.owner_role_label or '—'}：{'、'.join(d.owners) or '—'}")
    st = d.step
    click.echo(f"时限      {st.due}" + (f"（{st.due_rule}）" if st.due_rule else "")
               + ("  暂定（该年度国务院放假安排尚未导入）" if st.provisional else ""))
    if st.next_escalation:
        click.echo(f"下次督办  {st.next_escalation}")
    click.echo(f"版本      {d.version}   小组 {d.group or '—'}   本环节第 {st.round} 轮")
    if d.fields:
        click.echo("字段      " + _fields_text(d.fields))
    click.echo("角色      " + "；".join(f"{r.label}（{r.role}）：{'、'.join(r.people)}" for r in d.roles))
    if d.parent:
        p = d.parent
        click.echo(f"上级事项  #{p.id} {line(p.title)}：「{p.step_label}」交办 {p.unit_name}（{p.part}）"
                   + (f"；已随上级关闭：{line(p.closed, 200)}" if p.closed else ""))
    if d.children:
        click.echo("\n子事项:")
        table([[c.id, f"{c.unit_name}（{c.part}）", c.state_label, c.due or "—", c.light_label, line(c.closed or "", 80)]
               for c in d.children], ["#", "承办单位", "环节", "时限", "灯", "关闭原因"])
    if d.next:
        click.echo("\n可办理:")
        table([[m.trigger, m.label, m.to_label, "、".join(m.role_labels), "、".join(m.requires),
                "是" if m.allowed_for_actor else ("否" if m.allowed_for_actor is False else "?")] for m in d.next],
              ["trigger", "名称", "转至", "角色", "需填写", "本人可办"])
    status = {"pending": "待批", "approved": "已批准", "rejected": "未批准"}
    for x in d.extensions:
        click.echo(f"延期申请 {x.id}：{status.get(x.status, x.status)} → {x.new_date}（{line(x.reason, 120)}，{x.requested_by} 申请）")
    if d.earlier_rounds:
        click.echo("\n此前各环节、各轮填写的内容:")
        table([[s.seq, s.label, s.round, _fields_text(s.values)] for s in d.earlier_rounds], ["#", "环节", "轮次", "内容"])
    click.echo("\n各环节:")
    table([[s.seq, s.label, s.round, s.entered, s.entered_by or ("系统" if s.via else ""), s.due, s.left or "（办理中）",
            s.left_by] for s in d.steps],
          ["#", "环节", "轮次", "进入", "经办", "时限", "离开", "经办"])


def _assign_pairs(assigns: tuple[str, ...]) -> dict[str, list[str]]:
    assign: dict[str, list[str]] = {}
    for v in assigns:  # repeatable; several people may share a role
        if "=" not in v:
            raise click.BadParameter(f"'{v}' should be role=person", param_hint="--assign")
        role, _, person = v.partition("=")
        assign.setdefault(role.strip(), []).append(person.strip())
    return assign


@items.command("create")
@click.option("--template", required=True, help="Template key (its newest published version is used).")
@click.option("--title", required=True)
@click.option("--group", help="Code of the supervision group (unit) the item belongs to.")
@click.option("--unit", "units", multiple=True, help="Further unit whose memberships give default roles (repeatable).")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="Set a field (repeatable).")
@click.option("--assign", "assigns", multiple=True, metavar="ROLE=PERSON", help="Give a role to a person (repeatable).")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_create(ctx, template, title, group, units, fields, assigns, actor, now, as_json) -> None:
    """Start a new item on the newest version of a template."""
    from workflow import service

    t = parse_now(now)
    r = service.create_item(store(ctx), actor, template=template, title=title, now=t, group=group, units=units,
                            fields=pairs(fields, "--field"), assign=_assign_pairs(assigns))
    if as_json:
        emit(service.show_item(store(ctx), r.id, t, actor), True)
    else:
        click.echo(f"{r.id} 事项已创建：{line(r.title)} — 现处「{r.state_label}」，时限 {r.due}")


@items.command("list")
@click.option("--template")
@click.option("--state")
@click.option("--group", help="Unit code of the supervision group.")
@click.option("--owner", metavar="PERSON", help="Items whose current step this person owns.")
@click.option("--light", type=click.Choice(["green", "yellow", "red"]), help="Only open items with this light.")
@click.option("--open", "open_only", is_flag=True, help="Leave out finished items.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 10**12))
@now_opt
@json_opt
@click.pass_context
def items_list(ctx, template, state, group, owner, light, open_only, limit, offset, now, as_json) -> None:
    """Items, newest first, with their step, due time and light."""
    from workflow import service

    rows = service.list_items(reader(ctx), parse_now(now), template=template, state=state, group=group, owner=owner,
                              light_is=light, include_finished=not open_only, limit=limit, offset=offset)
    emit(rows, as_json, lambda r: table(
        [[x.id, x.light_label, x.title, x.template, x.state_label if not x.finished else "办结",
          x.owner_role_label or "", x.due or "", "暂停" if x.paused else "", x.group or ""] for x in r],
        ["id", "灯", "标题", "模板", "环节", "承办", "时限", "", "小组"]))


ITEM_ID = click.IntRange(1, 2**63 - 1)


@items.group("activity")
def items_activity() -> None:
    """Deputies' activities on an item (视察, 调研, 执法检查, 座谈, 专题询问)."""


@items_activity.command("add")
@click.argument("item", type=ITEM_ID)
@click.option("--kind", required=True, help="视察, 调研, 执法检查, 座谈 or 专题询问 (the scorecard's activity_kinds).")
@click.option("--date", "day", required=True, metavar="DATE")
@click.option("--deputies", required=True, metavar="CODE,CODE", help="The deputies who attended.")
@click.option("--note")
@scorecard_opt
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_activity_add(ctx, item, kind, day, deputies, note, card, actor, now, as_json) -> None:
    """Record an activity on ITEM with the deputies who attended (the office or the item's group lead)."""
    from workflow import service

    r = service.add_activity(store(ctx), actor, item, kind=kind, day=day, deputies=deputies.replace("、", ",").split(","),
                             now=parse_now(now), note=note, card_path=card)
    emit(r, as_json, lambda d: click.echo(f"{d.item} 已记录{d.kind}（{d.day}）：{'、'.join(d.deputies)}"))


@items.command("show")
@click.argument("item", type=ITEM_ID)
@click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON", help="Show which moves this person may make.")
@click.option("--rounds", is_flag=True, help="Also show the values entered in earlier steps and rounds.")
@now_opt
@json_opt
@click.pass_context
def items_show(ctx, item, actor, rounds, now, as_json) -> None:
    """One item: step, owner, light, this round's fields, roles, next moves, steps."""
    from workflow import service

    emit(service.show_item(reader(ctx), item, parse_now(now), actor, rounds), as_json, lambda d: _item_text(d, rounds))


@items.command("advance")
@click.argument("item", type=ITEM_ID)
@click.argument("trigger")
@actor_opt
@click.option("--comment", help="Comment recorded with the move (some moves require one).")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="Set a field with the move (repeatable).")
@click.option("--expect-version", type=click.IntRange(1, 2**63 - 1), help="Fail with exit 4 unless the item is still at this version.")
@now_opt
@json_opt
@click.pass_context
def items_advance(ctx, item, trigger, actor, comment, fields, expect_version, now, as_json) -> None:
    """Move ITEM on by TRIGGER as the acting person."""
    from workflow import service

    r = service.advance(store(ctx), actor, item, trigger, parse_now(now), comment=comment, fields=pairs(fields, "--field"),
                        expected_version=expect_version)
    emit(r, as_json, lambda d: click.echo(f"{d.item} {d.label}：「{d.from_label}」({d.from_state}) → 「{d.to_label}」({d.to_state})"
                                          + ("，已办结" if d.finished else f"，时限 {d.due}")))


@items.command("set")
@click.argument("item", type=ITEM_ID)
@click.option("--field", "fields", multiple=True, required=True, metavar="NAME=VALUE")
@actor_opt
@click.option("--expect-version", type=click.IntRange(1, 2**63 - 1))
@now_opt
@json_opt
@click.pass_context
def items_set(ctx, item, fields, actor, expect_version, now, as_json) -> None:
    """Change fields without moving the item (a deadline counted from a changed date is recomputed)."""
    from workflow import service

    r = service.set_fields(store(ctx), actor, item, pairs(fields, "--field"), parse_now(now), expect_version)
    emit(r, as_json, lambda d: click.echo(f"{d.item} 字段已更新：{_fields_text({k: v[1] for k, v in d.fields_changed.items()})}"
                                          + (f"；时限重算为 {d.due}" if d.recomputed else "")))


@items.command("assign")
@click.argument("item", type=ITEM_ID)
@click.argument("role")
@click.argument("people_codes", nargs=-1, required=True, metavar="PERSON...")
@click.option("--replace", is_flag=True, help="Replace the role's holders instead of adding to them.")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_assign(ctx, item, role, people_codes, replace, actor, now, as_json) -> None:
    """Give ROLE on ITEM to people (the template says who may grant it)."""
    from workflow import service

    r = service.assign(store(ctx), actor, item, role, list(people_codes), parse_now(now), replace)
    emit(r, as_json, lambda d: click.echo(f"{d.item} {d.role_label}（{d.role}）：{'、'.join(d.holders) or '—'}"
                                          + (f"；已向 {'、'.join(d.notified)} 发交办通知" if d.notified else "")))


@items.command("unassign")
@click.argument("item", type=ITEM_ID)
@click.argument("role")
@click.argument("people_codes", nargs=-1, required=True, metavar="PERSON...")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_unassign(ctx, item, role, people_codes, actor, now, as_json) -> None:
    """Withdraw ROLE on ITEM from people."""
    from workflow import service

    r = service.unassign(store(ctx), actor, item, role, list(people_codes), parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.item} {d.role_label}（{d.role}）：{'、'.join(d.holders) or '—'}"))


def one_of_dry_run_apply(dry_run: bool, apply_: bool) -> None:
    """Commands that change many things at once are looked at first: exactly one of --dry-run and --apply."""
    if dry_run == apply_:
        raise click.UsageError("give exactly one of --dry-run or --apply")


@items.command("migrate")
@click.option("--template", "template_key", required=True, help="The template key whose live items move.")
@click.option("--to", "version", required=True, help="The target version: its number as `definitions list` shows it, "
                                                     "or its hash (a unique prefix of at least 4 characters).")
@click.option("--map", "maps", multiple=True, metavar="OLD=NEW", help="Map a state to a state of the target (repeatable).")
@click.option("--item", "item_ids", multiple=True, type=ITEM_ID, help="Only these items (repeatable; default: every live item).")
@click.option("--dry-run", "dry_run", is_flag=True, help="Show what would change, change nothing.")
@click.option("--apply", "apply_", is_flag=True, help="Move the items, each in its own transaction.")
@admin_opt
@now_opt
@json_opt
@click.pass_context
def items_migrate(ctx, template_key, version, maps, item_ids, dry_run, apply_, actor, now, as_json) -> None:
    """Move live items to another published version of their template (an administrator): first --dry-run, then --apply."""
    from workflow import service

    one_of_dry_run_apply(dry_run, apply_)
    r = service.migrate(store(ctx), actor, template_key, version, parse_now(now), mapping=service.parse_map(maps),
                        items=list(item_ids) or None, apply=apply_)

    def text(d):
        what = "迁移" if d.applied else "（试运行，未改动）将迁移"
        click.echo(f"{len(d.items)} 个事项{what}至 {d.template} 版本 {d.to_version}（{d.to_hash[:12]}）"
                   + (f"，状态映射 {'、'.join(f'{k}→{v}' for k, v in d.mapping.items())}" if d.mapping else ""))
        table([[p.item, f"v{p.from_version}→v{p.to_version}", p.from_state + (f" → {p.to_state}" if p.to_state != p.from_state else ""),
                f"{p.old_due} → {p.new_due}" if p.old_due != p.new_due else p.new_due,
                {"same rule": "规则未变，保留", "paused": "挂起中，保留", "extended": "已延期，保留"}.get(p.due_kept or "", "按新规则重算"),
                f"{p.old_escalation} → {p.new_escalation}", "、".join(p.rungs_claimed), p.next_rung or "—"] for p in d.items],
              ["id", "版本", "环节", "时限", "时限处理", "下次督办", "已督办", "下一级"])
    emit(r, as_json, text)


@items.command("history")
@click.argument("item", type=ITEM_ID)
@json_opt
@click.pass_context
def items_history(ctx, item, as_json) -> None:
    """Everything that happened to ITEM, from the audit trail, with the round of each step."""
    from workflow import service

    def text(rows):
        for e in rows:
            move = f"{e.from_state or ''} → {e.to_state}".strip() if e.from_state != e.to_state else (e.to_state or "")
            d = e.data
            detail = d.get("label") or d.get("rung") or d.get("reason") or d.get("title") or ""
            if e.kind == "migrated":
                detail = (f"模板版本 {d.get('from_version')} → {d.get('to_version')}；时限 {d.get('old_due')} → {d.get('due')}"
                          + ("（保留）" if d.get("due_kept") else "（重算）"))
            given = d.get("fields") or {k: v[1] for k, v in (d.get("fields_changed") or {}).items()}
            if given:
                detail = (detail + " " if detail else "") + _fields_text(given)
            rnd = f"第{e.round}轮" if e.round and e.round > 1 else ""
            click.echo(f"{e.seq:>6}  {e.at}  {line(e.actor_name or '—', 40)}  {e.kind_label}  {move}  {rnd}  {line(detail, 200)}".rstrip())
    emit(service.history(reader(ctx), item), as_json, text)


@items.command("pause")
@click.argument("item", type=ITEM_ID)
@click.option("--reason", required=True)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_pause(ctx, item, reason, actor, now, as_json) -> None:
    """Suspend (挂起) ITEM's current step: its clock stops, it does not escalate, no move is made."""
    from workflow import service

    r = service.pause(store(ctx), actor, item, reason, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.item} 「{d.step_label}」已于 {d.paused_at} 挂起（原时限 {d.due}）"))


@items.command("resume")
@click.argument("item", type=ITEM_ID)
@click.option("--reason")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_resume(ctx, item, reason, actor, now, as_json) -> None:
    """Resume (恢复) ITEM's paused step; its due time moves by the paused span."""
    from workflow import service

    r = service.resume(store(ctx), actor, item, parse_now(now), reason)
    emit(r, as_json, lambda d: click.echo(f"{d.item} 「{d.step_label}」已恢复办理；时限 {d.old_due} → {d.due}"))


@items.command("extend")
@click.argument("item", type=ITEM_ID)
@click.option("--until", "until", required=True, metavar="DATE", help="The new last day (YYYY-MM-DD).")
@click.option("--reason", required=True)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def items_extend(ctx, item, until, reason, actor, now, as_json) -> None:
    """Ask (延期申请), before the due time, for a later last day of ITEM's step."""
    from workflow import service

    r = service.request_extension(store(ctx), actor, item, reason, until, parse_now(now))
    emit(r, as_json, lambda d: click.echo(f"{d.id} 延期申请已提交：事项 {d.item}「{d.step_label}」时限 {d.due} → {d.new_date}，"
                                          f"待{' 或 '.join(d.approver_labels)}批准"))


@cli.group()
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


# --- audit ----------------------------------------------------------------------------------------

@cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("verify")
@click.option("--checkpoint", metavar="SEQ:CODE", help="Also check an earlier `audit checkpoint` the office kept.")
@json_opt
@click.pass_context
def audit_verify(ctx, checkpoint, as_json) -> None:
    """Check the whole trail, then the tables against it: exit 2 naming what changed.

    The first event modified, deleted, inserted, reordered or cut off; then every item's state, version,
    fields, finished and paused times, every step's due time, the role holders, the template versions, the
    administrators and disabled people, replayed from the trail and compared with the rows. With the audit
    key (setting audit_key_file, or WUZHUAN_AUDIT_KEY_FILE) the MACs and the binding checkpoint are checked
    too: a trail stripped of its signatures, cut back, or rewritten with every hash recomputed is found.
    """
    from workflow import service
    from workflow.errors import InvalidInput

    r = service.verify_audit(reader(ctx, with_settings=True), checkpoint)
    if as_json:
        emit(r, True)
    if not r.ok:
        if not as_json:
            for more in r.unexplained[1:20]:
                click.echo(f"  also: {more}", err=True)
        raise InvalidInput(f"audit trail broken: {r.problem}")
    if not as_json:
        how = f"authenticity checked with the audit key {r.key_id}" if r.authenticated else "integrity checked"
        click.echo(f"audit trail intact: {r.events} events; {r.items} items, their steps and role holders, the template "
                   f"versions and the directory's flags agree with it; {how}")
        for note in r.notes:
            click.echo(f"note: {note}")


@audit_group.command("checkpoint")
@json_opt
@click.pass_context
def audit_checkpoint(ctx, as_json) -> None:
    """Print the trail's head as SEQ:CODE to keep outside the database (on paper, in the weekly notice)."""
    from workflow import service

    c = service.checkpoint(reader(ctx, with_settings=True))
    emit(c, as_json, lambda d: click.echo(f"{d}\n({'the MAC under the audit key' if d.signed else 'the hash: set an audit key so that it cannot be recomputed'}; "
                                          f"check later with `wuzhuan audit verify --checkpoint {d}`)"))


@audit_group.command("init-key")
@click.argument("file", type=click.Path(dir_okay=False))
@json_opt
def audit_init_key(file, as_json) -> None:
    """Make a new audit key in FILE (never overwriting one); then set audit_key_file to it."""
    from workflow import service

    p = service.init_key(file)
    emit({"file": str(p)}, as_json, lambda _d: click.echo(
        f"wrote a new audit key to {p} (readable by its owner only).\nSet it in wuzhuan.toml:  [audit] key_file = \"{p.resolve()}\"\n"
        "or in the environment: WUZHUAN_AUDIT_KEY_FILE. Keep it outside the database and its backups."))


# --- calendar -------------------------------------------------------------------------------------

@cli.group("calendar")
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


# --- escalation, outbox, scheduler ----------------------------------------------------------------

@cli.command()
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


# --- reports --------------------------------------------------------------------------------------

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


@cli.group()
def report() -> None:
    """比进度·比创新·比质效: the board, the 台账 (ledger), the year's results report, the 通报 digest."""


@report.command("board")
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="The day the board is as of.")
@click.option("--previous", metavar="DATE", help="An earlier day: each unit's rank then, and the change.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "xlsx"]), default="table", show_default=True)
@click.option("--output", metavar="FILE", help="Write to FILE (required for xlsx).")
@scorecard_opt
@click.pass_context
def report_board(ctx, as_of, previous, fmt, output, card) -> None:
    """One row per unit: each metric, the weighted score, rank and previous rank, the 双亮牌 colour."""
    from workflow import report_render, service

    b = service.board(reader(ctx), as_of, previous, card)
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
@click.pass_context
def report_ledger(ctx, fmt, output, template, year, now) -> None:
    """The 台账: one row per item, one column group per step (entered, due, finished, light, days late), fields, owner."""
    from workflow import report_render, service

    ledger = service.ledger(reader(ctx), parse_now(now), template, year)
    if fmt == "csv":
        _write(output, fmt, lambda out: report_render.ledger_csv(ledger, out))
    elif fmt == "json":
        _write(output, fmt, lambda out: report_render.ledger_json(ledger, out))
    else:
        _write(output, fmt, write_binary=lambda path: report_render.ledger_xlsx(ledger, path))


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


@cli.group()
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


@cli.group()
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


@cli.group()
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


@cli.group()
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


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (PostgreSQL only; SQLite serves from one process).")
@click.option("--base-url", metavar="URL", help="Where people reach the workbench (links in notices; https makes cookies Secure).")
@click.option("--trust-forwarded", is_flag=True, help="Behind a reverse proxy: honour X-Forwarded-For/-Proto (setting trust_forwarded).")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True, metavar="IPS",
              help="With --trust-forwarded: the proxy addresses whose X-Forwarded-* headers count.")
@click.option("--max-connections", default=256, show_default=True, type=click.IntRange(8, 100_000),
              help="Connections a worker holds at once; beyond them it answers 503 at once.")
@click.option("--keep-alive", "keep_alive", default=5, show_default=True, type=click.IntRange(1, 300), metavar="SECONDS",
              help="How long an idle kept-alive connection stays open.")
@click.pass_context
def serve(ctx, host, port, workers, base_url, trust_forwarded, forwarded_allow_ips, max_connections, keep_alive) -> None:
    """Run the workbench (督办工作台) for people's browsers and the JSON API, until SIGTERM/SIGINT."""
    import dataclasses

    import uvicorn

    from workflow.errors import InvalidInput, KeyRequired, Unavailable

    cfg = settings(ctx)
    if base_url:
        cfg = dataclasses.replace(cfg, base_url=base_url)
        os.environ["WUZHUAN_BASE_URL"] = base_url
    st = store(ctx)  # opened here: a bad URL or an outdated database is reported before the server starts
    try:
        st.check_writable()  # so is a signed audit trail without its key
    except Unavailable as e:
        if isinstance(e, KeyRequired):
            raise
        click.echo(f"warning: {e}; the workbench starts and answers 503 to what needs the database until it can "
                   "(no restart needed)", err=True)
    if st.dialect == "sqlite" and workers > 1:
        raise InvalidInput("SQLite serves from one process: use --workers 1, or PostgreSQL for several workers")
    proxy = trust_forwarded or cfg.trust_forwarded
    click.echo(f"wuzhuan workbench on http://{host}:{port}/ (database {st.display_url}; {workers} worker(s))", err=True)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the handler it found:
    # this one, so that a stop asked for is exit 0 (as `scheduler run`), not death by signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if workers == 1:
        from workflow.web import create_app, serving

        st.settings = cfg
        uvicorn.run(serving(create_app(st)), host=host, port=port, proxy_headers=proxy, forwarded_allow_ips=forwarded_allow_ips,
                    server_header=False, log_level="info", limit_concurrency=max_connections, timeout_keep_alive=keep_alive)
    else:
        os.environ["WUZHUAN_DATABASE_URL"] = st.url
        if ctx.find_root().obj.get("config"):
            os.environ["WUZHUAN_CONFIG"] = str(ctx.find_root().obj["config"])
        from workflow import web

        web.run_workers(workers, host=host, port=port, proxy_headers=proxy, forwarded_allow_ips=forwarded_allow_ips,
                        server_header=False, log_level="info", limit_concurrency=max_connections,
                        timeout_keep_alive=keep_alive)


@cli.group("config")
def config_group() -> None:
    """Settings from wuzhuan.toml and WUZHUAN_* variables."""


@config_group.command("show")
@json_opt
@click.pass_context
def config_show(ctx, as_json) -> None:
    """The settings in force (the SMTP password only as set or not)."""
    data = settings(ctx).public()
    emit(data, as_json, lambda d: table([[k, "" if v is None else v] for k, v in d.items()], ["setting", "value"]))


# --- demo -----------------------------------------------------------------------------------------

@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Where to create the demo (default: a new folder demo-<time>).")
@json_opt
def demo(directory: str | None, as_json: bool) -> None:
    """Run the real engine on a fresh SQLite database: a year of five special supervision items."""
    from workflow.demo import run_demo

    lines: list[str] = []
    out = run_demo(Path(directory) if directory else None, lines.append if as_json else click.echo)
    if as_json:
        emit({"directory": str(out), "database": str(out / "wuzhuan.db"), "log": lines}, True)


def main() -> None:
    try:
        cli(obj={}, prog_name="wuzhuan")
    except BrokenPipeError:  # `wuzhuan items list | head`: the reader has all it wanted
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - closed by the interpreter at exit
        finally:
            os._exit(0)


if __name__ == "__main__":
    main()
