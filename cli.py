"""The `wuzhuan` command line: parse, call one library function, print; errors become exit codes."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from datetime import UTC, datetime
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
        file = file or sys.stderr
        if self.problems:
            n = len(self.problems)
            click.echo(f"Error: {n} problem{'s' if n > 1 else ''} found:", err=True)
            for p in self.problems:
                click.echo(str(p), err=True)
        else:
            click.echo(f"Error: {self.message}", err=True)


class App(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        from workflow.errors import WuzhuanError

        try:
            return super().invoke(ctx)
        except WuzhuanError as e:
            raise DomainError(e) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug: say so in one line, keep the traceback for WUZHUAN_DEBUG
            if os.environ.get("WUZHUAN_DEBUG"):
                raise
            click.echo(f"Error: internal error ({type(e).__name__}: {e}); this is a bug in wuzhuan — "
                       "run again with WUZHUAN_DEBUG=1 for the traceback and report it", err=True)
            ctx.exit(1)


def store(ctx: click.Context):
    from workflow.db import Store

    obj = ctx.find_root().obj
    if obj.get("store") is None:
        obj["store"] = Store(obj.get("db"))
        ctx.call_on_close(obj["store"].dispose)
    return obj["store"]


def settings(ctx: click.Context):
    from workflow.config import load_settings

    return load_settings(ctx.find_root().obj.get("config"))


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO time (e.g. 2026-03-01T09:00+08:00)") from None
    if t.tzinfo is None:
        from workflow.calendar import TZ

        t = t.replace(tzinfo=TZ)
    return t.astimezone(UTC)


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"'{v}' should be name=value", param_hint=what)
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def emit(data: Any, as_json: bool, text=None) -> None:
    if as_json or text is None:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        text(data)


def _w(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def table(rows: list[list[Any]], headers: list[str]) -> None:
    cells = [[("" if c is None else str(c)) for c in r] for r in [headers] + rows]
    widths = [max(_w(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        click.echo("  ".join(c + " " * (widths[i] - _w(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
now_opt = click.option("--now", "now", metavar="ISO-TIME", help="Act as of this time (default: the current time).")
actor_opt = click.option("--actor", envvar="WUZHUAN_ACTOR", required=True, metavar="PERSON",
                         help="Code of the person acting (or WUZHUAN_ACTOR).")


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
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply schema migrations (also done automatically on an empty database)."""
    from workflow.db import Store, upgrade

    s = Store(ctx.find_root().obj.get("db"), migrate=False)
    before, after = upgrade(s.engine)
    click.echo(f"schema at {after}" + (f" (was {before})" if before != after else " (already current)"))
    s.dispose()


# --- definitions ----------------------------------------------------------------------------------

@cli.group()
def definitions() -> None:
    """Process templates: validate, show, draw, publish."""


@definitions.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
def definitions_validate(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Check template files; print every problem as FILE:LINE:COL: message."""
    from workflow.registry import validate_paths

    defs = validate_paths(list(paths), settings(ctx).notice_dir)
    for p, d in zip(paths, defs, strict=True):
        click.echo(f"{p}: ok — {d.key} ({d.title}), {len(d.states)} states, {len(d.transitions)} transitions, version {d.content_hash[:12]}")


def _resolve(ctx: click.Context, path_or_key: str):
    from workflow.registry import resolve

    p = Path(path_or_key)
    if p.exists() or p.suffix in (".yaml", ".yml"):
        return resolve(path_or_key, None, settings(ctx).notice_dir)
    return resolve(path_or_key, store(ctx).read, settings(ctx).notice_dir)


@definitions.command("show")
@click.argument("path_or_key")
@json_opt
@click.pass_context
def definitions_show(ctx: click.Context, path_or_key: str, as_json: bool) -> None:
    """States, owners, deadlines and transitions of a template (a file, or a published key)."""
    from workflow.describe import describe

    data = describe(_resolve(ctx, path_or_key))

    def text(d):
        click.echo(f"{d['title']} ({d['key']}, version {d['version']}, calendar {d['calendar']})\n")
        table([[s["name"], s["label"], s["owner"], s["deadline"], s["ladder"], "final" if s["final"] else ""] for s in d["states"]],
              ["state", "label", "owner", "deadline", "ladder", ""])
        click.echo()
        table([[t["trigger"], t["label"], " | ".join(t["from"]) + " → " + t["to"], ", ".join(t["roles"]),
                ", ".join(t["requires"]), "; ".join(t["guards"])] for t in d["transitions"]],
              ["trigger", "label", "from → to", "roles", "requires", "guards"])
    emit(data, as_json, text)


@definitions.command("diagram")
@click.argument("path_or_key")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Render to FILE.svg or FILE.png (needs Graphviz).")
@click.pass_context
def definitions_diagram(ctx: click.Context, path_or_key: str, fmt: str, output: str | None) -> None:
    """The state diagram as Mermaid or Graphviz DOT text, or rendered to an image."""
    from workflow import diagram

    defn = _resolve(ctx, path_or_key)
    if output:
        for warning in diagram.render(diagram.dot(defn), Path(output)):
            click.echo(f"Warning: {warning}", err=True)
        click.echo(f"wrote {output}")
        return
    click.echo(diagram.mermaid(defn) if fmt == "mermaid" else diagram.dot(defn), nl=False)


@definitions.command("publish")
@click.argument("paths", nargs=-1, required=True)
@click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON", help="Who publishes (or WUZHUAN_ACTOR).")
@now_opt
@click.pass_context
def definitions_publish(ctx: click.Context, paths: tuple[str, ...], actor: str | None, now: str | None) -> None:
    """Store templates as immutable versions; the same content again changes nothing."""
    from workflow.registry import publish

    st = store(ctx)
    for p in paths:
        with st.transaction() as s:
            tv, created = publish(s, p, actor, parse_now(now), settings(ctx).notice_dir)
        click.echo(f"{p}: {'published' if created else 'unchanged'} {tv.key} version {tv.id} ({tv.content_hash[:12]})")


@definitions.command("list")
@json_opt
@click.pass_context
def definitions_list(ctx: click.Context, as_json: bool) -> None:
    """Published template versions."""
    from workflow.registry import versions

    with store(ctx).read() as s:
        rows = [{"id": v.id, "key": v.key, "title": v.title, "hash": v.content_hash[:12], "file": v.source_name,
                 "published_at": v.published_at.isoformat(), "published_by": v.published_by} for v in versions(s)]
    emit(rows, as_json, lambda r: table([[x["id"], x["key"], x["title"], x["hash"], x["published_at"][:19], x["published_by"]] for x in r],
                                        ["version", "key", "title", "hash", "published (UTC)", "by"]))


# --- people ---------------------------------------------------------------------------------------

@cli.group("people")
def people_group() -> None:
    """People, organisation units and their roles."""


@people_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON")
@now_opt
@click.pass_context
def people_import(ctx: click.Context, file: str, actor: str | None, now: str | None) -> None:
    """Create or update people, units and memberships from YAML or CSV."""
    from workflow.people import import_people

    with store(ctx).transaction() as s:
        r = import_people(s, file, actor, parse_now(now))
    click.echo(f"imported {r.people} people, {r.units} units, {r.memberships} memberships")


@people_group.command("list")
@json_opt
@click.pass_context
def people_list(ctx: click.Context, as_json: bool) -> None:
    """Everyone, with their units and roles."""
    from workflow.people import list_people

    with store(ctx).read() as s:
        rows = list_people(s)
    emit(rows, as_json, lambda r: table([[p["code"], p["name"], p["email"], "; ".join(f"{x['role']}@{x['unit']}" for x in p["roles"])] for p in r],
                                        ["code", "name", "email", "roles"]))


# --- items ----------------------------------------------------------------------------------------

@cli.group()
def items() -> None:
    """Supervision items: create, list, show, advance, assign, pause, extend, history."""


def _item_text(d: dict) -> None:
    click.echo(f"#{d['id']} {d['title']}  [{d['template_title']} · version {d['template_hash']}]")
    click.echo(f"step      {d['state_label']} ({d['state']})  light {d['light_cn'] if not d['finished'] else '办结'}"
               + ("  PAUSED" if d["paused"] else ""))
    click.echo(f"owner     {d['owner_role'] or '—'}: {', '.join(d['owners']) or '—'}")
    st = d["step"]
    click.echo(f"due       {st['due']}" + (f"  ({st['due_rule']})" if st["due_rule"] else "") + ("  PROVISIONAL" if st["provisional"] else ""))
    if st["next_escalation"]:
        click.echo(f"escalates {st['next_escalation']}")
    click.echo(f"version   {d['version']}   group {d['group'] or '—'}")
    if d["fields"]:
        click.echo("fields    " + "; ".join(f"{k}={v}" for k, v in d["fields"].items()))
    click.echo("roles     " + "; ".join(f"{r}: {', '.join(ps)}" for r, ps in d["roles"].items()))
    if d["next"]:
        click.echo("\nnext moves:")
        table([[m["trigger"], m["label"], m["to"], ", ".join(m["roles"]), ", ".join(m["requires"]),
                "yes" if m["allowed_for_actor"] else ("no" if m["allowed_for_actor"] is False else "?")] for m in d["next"]],
              ["trigger", "label", "to", "roles", "requires", "you may"])
    for x in d["extensions"]:
        click.echo(f"extension request {x['id']}: {x['status']} → {x['new_date']} ({x['reason']}, by {x['requested_by']})")
    click.echo("\nsteps:")
    table([[s["seq"], s["label"], s["entered"], s["entered_by"], s["due"], s["left"] or "(open)", s["left_by"]] for s in d["steps"]],
          ["#", "step", "entered", "by", "due", "left", "by"])


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
    from workflow.items import create_item
    from workflow.views import show_item

    assign: dict[str, list[str]] = {}
    for v in assigns:  # repeatable; several people may share a role
        if "=" not in v:
            raise click.BadParameter(f"'{v}' should be role=person", param_hint="--assign")
        role, _, person = v.partition("=")
        assign.setdefault(role.strip(), []).append(person.strip())
    t = parse_now(now)
    item_id = create_item(store(ctx), template=template, title=title, actor=actor, now=t, group=group, units=units,
                          fields=pairs(fields, "--field"), assign=assign)
    emit(show_item(store(ctx), item_id, t, actor), as_json, lambda d: click.echo(f"created item {d['id']}: {d['title']} — at '{d['state_label']}', due {d['step']['due']}"))


@items.command("list")
@click.option("--template")
@click.option("--state")
@click.option("--group", help="Unit code of the supervision group.")
@click.option("--owner", metavar="PERSON", help="Items whose current step this person owns.")
@click.option("--light", type=click.Choice(["green", "yellow", "red"]), help="Only open items with this light.")
@click.option("--open", "open_only", is_flag=True, help="Leave out finished items.")
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
@now_opt
@json_opt
@click.pass_context
def items_list(ctx, template, state, group, owner, light, open_only, limit, offset, now, as_json) -> None:
    """Items, newest first, with their step, due time and light."""
    from workflow.views import list_items

    rows = list_items(store(ctx), parse_now(now), template=template, state=state, group=group, owner=owner,
                      light_is=light, include_finished=not open_only, limit=limit, offset=offset)
    emit(rows, as_json, lambda r: table(
        [[x["id"], x["light_cn"], x["title"], x["template"], x["state_label"] if not x["finished"] else "办结",
          x["owner_role"] or "", x["due"] or "", "暂停" if x["paused"] else "", x["group"] or ""] for x in r],
        ["id", "灯", "title", "template", "step", "owner", "due", "", "group"]))


@items.command("show")
@click.argument("item", type=int)
@click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON", help="Show which moves this person may make.")
@now_opt
@json_opt
@click.pass_context
def items_show(ctx, item, actor, now, as_json) -> None:
    """One item: step, owner, light, fields, roles, next moves, steps."""
    from workflow.views import show_item

    emit(show_item(store(ctx), item, parse_now(now), actor), as_json, _item_text)


@items.command("advance")
@click.argument("item", type=int)
@click.argument("trigger")
@actor_opt
@click.option("--comment", help="Comment recorded with the move (some moves require one).")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="Set a field with the move (repeatable).")
@click.option("--expect-version", type=int, help="Fail with exit 4 unless the item is still at this version.")
@now_opt
@json_opt
@click.pass_context
def items_advance(ctx, item, trigger, actor, comment, fields, expect_version, now, as_json) -> None:
    """Move ITEM on by TRIGGER as the acting person."""
    from workflow.items import advance

    r = advance(store(ctx), item, trigger, actor, parse_now(now), comment=comment, fields=pairs(fields, "--field"),
                expected_version=expect_version)
    emit(r, as_json, lambda d: click.echo(f"item {d['item']}: {d['from']} → {d['to']} ({d['label']})"
                                          + ("; finished" if d["finished"] else f"; due {d['due']}")))


@items.command("set")
@click.argument("item", type=int)
@click.option("--field", "fields", multiple=True, required=True, metavar="NAME=VALUE")
@actor_opt
@click.option("--expect-version", type=int)
@now_opt
@json_opt
@click.pass_context
def items_set(ctx, item, fields, actor, expect_version, now, as_json) -> None:
    """Change fields without moving the item (a deadline counted from a changed date is recomputed)."""
    from workflow.items import set_fields

    r = set_fields(store(ctx), item, pairs(fields, "--field"), actor, parse_now(now), expect_version)
    emit(r, as_json, lambda d: click.echo(f"item {d['item']}: fields set" + (f"; due now {d['due']}" if d["recomputed"] else "")))


@items.command("assign")
@click.argument("item", type=int)
@click.argument("role")
@click.argument("people_codes", nargs=-1, required=True, metavar="PERSON...")
@click.option("--replace", is_flag=True, help="Replace the role's holders instead of adding to them.")
@actor_opt
@now_opt
@click.pass_context
def items_assign(ctx, item, role, people_codes, replace, actor, now) -> None:
    """Give ROLE on ITEM to people."""
    from workflow.items import assign

    r = assign(store(ctx), item, role, list(people_codes), actor, parse_now(now), replace)
    click.echo(f"item {item}: {role} = {', '.join(r[role]) or '—'}")


@items.command("history")
@click.argument("item", type=int)
@json_opt
@click.pass_context
def items_history(ctx, item, as_json) -> None:
    """Everything that happened to ITEM, from the audit trail."""
    from workflow.views import history

    def text(rows):
        for e in rows:
            move = f"{e['from'] or ''} → {e['to']}".strip() if e["from"] != e["to"] else (e["to"] or "")
            detail = e["data"].get("label") or e["data"].get("rung") or e["data"].get("reason") or e["data"].get("title") or ""
            click.echo(f"{e['seq']:>6}  {e['at']}  {e['actor_name'] or '—'}  {e['kind']}  {move}  {detail}".rstrip())
    emit(history(store(ctx), item), as_json, text)


@items.command("pause")
@click.argument("item", type=int)
@click.option("--reason", required=True)
@actor_opt
@now_opt
@click.pass_context
def items_pause(ctx, item, reason, actor, now) -> None:
    """Suspend (挂起) ITEM's current step: its clock stops and it does not escalate."""
    from workflow.suspension import pause

    r = pause(store(ctx), item, actor, reason, parse_now(now))
    click.echo(f"item {r['item']}: '{r['step']}' paused at {r['paused_at']} (was due {r['due']})")


@items.command("resume")
@click.argument("item", type=int)
@click.option("--reason")
@actor_opt
@now_opt
@click.pass_context
def items_resume(ctx, item, reason, actor, now) -> None:
    """Resume (恢复) ITEM's paused step; its due time moves by the paused span."""
    from workflow.suspension import resume

    r = resume(store(ctx), item, actor, parse_now(now), reason)
    click.echo(f"item {r['item']}: '{r['step']}' resumed; due {r['old_due']} → {r['due']}")


@items.command("extend")
@click.argument("item", type=int)
@click.option("--until", "until", required=True, metavar="DATE", help="The new last day (YYYY-MM-DD).")
@click.option("--reason", required=True)
@actor_opt
@now_opt
@click.pass_context
def items_extend(ctx, item, until, reason, actor, now) -> None:
    """Ask (延期申请), before the due time, for a later last day of ITEM's step."""
    from workflow.suspension import request_extension

    r = request_extension(store(ctx), item, actor, reason, until, parse_now(now))
    click.echo(f"extension request {r['request']} for item {r['item']} ('{r['step']}', due {r['due']} → {r['new_date']}) "
               f"waits for {' or '.join(r['approvers'])}")


@cli.group()
def extensions() -> None:
    """Decide on extension requests."""


def _decide(ctx, request, actor, comment, now, approve: bool) -> None:
    from workflow.suspension import decide_extension

    r = decide_extension(store(ctx), request, actor, approve, parse_now(now), comment)
    click.echo(f"extension request {r['request']} {r['status']}; item {r['item']} due {r['due']}")


@extensions.command("approve")
@click.argument("request", type=int)
@click.option("--comment")
@actor_opt
@now_opt
@click.pass_context
def extensions_approve(ctx, request, comment, actor, now) -> None:
    """Approve: the step's due time and escalation ladder move to the new day."""
    _decide(ctx, request, actor, comment, now, True)


@extensions.command("reject")
@click.argument("request", type=int)
@click.option("--comment")
@actor_opt
@now_opt
@click.pass_context
def extensions_reject(ctx, request, comment, actor, now) -> None:
    """Reject: the due time stays."""
    _decide(ctx, request, actor, comment, now, False)


# --- audit ----------------------------------------------------------------------------------------

@cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("verify")
@json_opt
@click.pass_context
def audit_verify(ctx, as_json) -> None:
    """Check the whole chain; exit 2 naming the first event modified, deleted, reordered or inserted."""
    from workflow.audit import verify
    from workflow.errors import InvalidInput

    with store(ctx).read() as s:
        r = verify(s)
    if as_json:
        emit(r.__dict__, True)
    if not r.ok:
        raise InvalidInput(f"audit trail broken: {r.problem}")
    if not as_json:
        click.echo(f"audit trail intact: {r.events} events")


# --- calendar -------------------------------------------------------------------------------------

@cli.group("calendar")
def calendar_group() -> None:
    """Working days, holidays and 调休, and deadline arithmetic."""


@calendar_group.command("show")
@click.argument("year", type=int)
@json_opt
@click.pass_context
def calendar_show(ctx, year, as_json) -> None:
    """Holidays and make-up workdays of YEAR."""
    from workflow.calendar_store import show_year

    with store(ctx).read() as s:
        d = show_year(s, year)

    def text(d):
        click.echo(f"{d['year']}: {d['workdays']} working days" + ("" if d["exact"] else "  (PROVISIONAL: no official notice imported; weekends + statutory holidays by rule)"))
        table([[x["date"], x["weekday"], "上班" if x["workday"] else "休", x["name"]] for x in d["days"]], ["date", "", "", "name"])
    emit(d, as_json, text)


@calendar_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON")
@now_opt
@click.pass_context
def calendar_import(ctx, file, actor, now) -> None:
    """Load a year's State Council holiday notice and recompute provisional deadlines."""
    from workflow.calendar_store import import_notice

    with store(ctx).transaction() as s:
        r = import_notice(s, file, actor, parse_now(now))
    click.echo(f"{r['year']}: {r['holidays']} holidays and {r['workdays']} make-up workdays from {r['source']}; "
               f"{r['recomputed_steps']} provisional deadlines recomputed")


@calendar_group.command("due")
@click.option("--from", "start", required=True, metavar="DATE")
@click.option("--amount", type=int, required=True)
@click.option("--unit", type=click.Choice(["workdays", "days", "months", "hours"]), required=True)
@click.option("--before", is_flag=True, help="Count back from DATE (e.g. 20 days before a meeting).")
@click.option("--no-calendar", is_flag=True, help="Every day counts (a template with calendar: none).")
@json_opt
@click.pass_context
def calendar_due(ctx, start, amount, unit, before, no_calendar, as_json) -> None:
    """The due time of a period, with the rule applied, to check a date by hand."""
    from workflow.calendar import EVERY_DAY, explain_due, parse_date
    from workflow.calendar_store import calendar_for
    from workflow.deadlines import fmt

    if no_calendar:
        cal = EVERY_DAY
    else:
        with store(ctx).read() as s:
            cal = calendar_for(s)
    d = explain_due(cal, parse_date(start, "--from"), amount, unit, "before" if before else "after")
    data = {"due": fmt(d.at), "due_utc": d.at.isoformat(), "provisional": d.provisional, "rule": d.rule}
    emit(data, as_json, lambda x: click.echo(f"{x['due']}  ({x['rule']})" + ("  PROVISIONAL" if x["provisional"] else "")))


# --- escalation, outbox, scheduler ----------------------------------------------------------------

@cli.command()
@click.option("--once", is_flag=True, required=True, help="Run one sweep and exit (for cron); `scheduler run` loops.")
@now_opt
@click.option("--batch", default=200, show_default=True)
@json_opt
@click.pass_context
def escalate(ctx, once, now, batch, as_json) -> None:
    """Fire every escalation rung due now, each exactly once, and queue its notices."""
    from workflow.sweep import sweep

    r = sweep(store(ctx), parse_now(now), batch=batch)
    emit(r, as_json, lambda d: click.echo(f"sweep: {d.get('fired', 0)} rungs fired, {d.get('skipped', 0)} skipped, "
                                          f"{d.get('queued', 0)} notices queued ({d.get('steps', 0)} steps looked at)"))


@cli.group()
def outbox() -> None:
    """Queued notices: deliver, list, retry."""


@outbox.command("deliver")
@now_opt
@json_opt
@click.pass_context
def outbox_deliver(ctx, now, as_json) -> None:
    """Send pending messages by SMTP, or write .eml files when no SMTP host is configured."""
    from workflow.delivery import deliver_with

    cfg = settings(ctx)
    r = deliver_with(store(ctx), cfg, parse_now(now))
    where = f"SMTP {cfg.smtp_host}:{cfg.smtp_port}" if cfg.smtp_host else f"files in {cfg.outbox_dir}/"
    emit(r, as_json, lambda d: click.echo(f"delivered {d['sent']} ({where}), {d['failed']} to retry, {d['dead']} dead"))


@outbox.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "dead"]))
@click.option("--limit", default=50, show_default=True)
@json_opt
@click.pass_context
def outbox_list(ctx, status, limit, as_json) -> None:
    """Messages, newest first."""
    from workflow.delivery import list_outbox

    emit(list_outbox(store(ctx), status, limit), as_json, lambda r: table(
        [[x["id"], x["status"], x["attempts"], x["notice"], x["to"], x["subject"] or "", (x["last_error"] or "")[:60]] for x in r],
        ["id", "status", "tries", "notice", "to", "subject", "last error"]))


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_dead", is_flag=True, help="Retry every dead message.")
@click.option("--actor", envvar="WUZHUAN_ACTOR", metavar="PERSON")
@now_opt
@click.pass_context
def outbox_retry(ctx, ids, all_dead, actor, now) -> None:
    """Make dead messages pending again."""
    from workflow.delivery import retry

    if not ids and not all_dead:
        raise click.UsageError("give message ids or --all")
    n = retry(store(ctx), parse_now(now), list(ids) or None, actor)
    click.echo(f"{n} message(s) pending again")


@cli.group()
def scheduler() -> None:
    """The escalation scheduler."""


@scheduler.command("run")
@click.option("--sweep-seconds", type=int, help="Seconds between sweeps (default from settings: 60).")
@click.option("--deliver-seconds", type=int, help="Seconds between deliveries (default from settings: 30).")
@click.pass_context
def scheduler_run(ctx, sweep_seconds, deliver_seconds) -> None:
    """Sweep and deliver on intervals in the foreground until SIGTERM/SIGINT."""
    from workflow.scheduler import run

    cfg = settings(ctx)
    run(store(ctx), cfg, sweep_seconds or cfg.sweep_seconds, deliver_seconds or cfg.deliver_seconds)


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
def demo(directory: str | None) -> None:
    """Run the real engine on a fresh SQLite database: a year of five special supervision items."""
    from workflow.demo import run_demo

    run_demo(Path(directory) if directory else None, click.echo)

def main() -> None:
    cli(obj={}, prog_name="wuzhuan")


if __name__ == "__main__":
    main()
