"""`wuzhuan items`: supervision items created, listed, shown, moved and changed."""

from __future__ import annotations

import click

from commands.base import (
    ITEM_ID,
    actor_opt,
    admin_opt,
    emit,
    json_opt,
    line,
    now_opt,
    one_of_dry_run_apply,
    pairs,
    parse_now,
    reader,
    scorecard_opt,
    store,
    table,
    viewer_opt,
)
from workflow import terminal


@click.group()
def items() -> None:
    """Supervision items: create, list, show, advance, set, assign, pause, extend, history."""


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
        emit(service.show_item(store(ctx), actor or service.OPERATOR, r.id, t), True)
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
@click.option("--q", "words", metavar="WORDS", help="Items holding these words (title, values, comments, file names), best first.")
@click.option("--sort", type=click.Choice(["recent", "due", "light", "updated"]), default="recent", show_default=True,
              help="recent: newest first; due: soonest due first; light: 红, 黄, 绿; updated: the latest changed first.")
@viewer_opt
@now_opt
@json_opt
@click.pass_context
def items_list(ctx, template, state, group, owner, light, open_only, limit, offset, words, sort, actor, now, as_json) -> None:
    """Items, newest first (or --sort), with their step, due time and light; with --q, those found by words, best first."""
    from workflow import service

    if words is not None:
        if state or group or owner or light or open_only or sort != "recent":
            raise click.UsageError("--q combines with --template, --limit and --offset only")
        found = service.search_items(store(ctx), actor or service.OPERATOR, words, parse_now(now), offset=offset,
                                     limit=min(limit, 500), template=template)
        rows = found.items
        if not as_json:
            click.echo(f"找到 {found.total} 个事项（第 {found.page}/{found.pages} 页）", err=True)
    else:
        rows = service.list_items(reader(ctx), actor or service.OPERATOR, parse_now(now), template=template, state=state, group=group, owner=owner,
                                  light_is=light, include_finished=not open_only, limit=limit, offset=offset, sort=sort)
    emit(rows, as_json, lambda r: table(
        [[x.id, x.light_label, x.title, x.template, x.state_label if not x.finished else "办结",
          x.owner_role_label or "", x.due or "", "暂停" if x.paused else "", x.group or ""] for x in r],
        ["id", "灯", "标题", "模板", "环节", "承办", "时限", "", "小组"]))




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

    emit(service.show_item(reader(ctx), actor or service.OPERATOR, item, parse_now(now), rounds), as_json, lambda d: click.echo(terminal.item_text(d, rounds)))


@items.command("advance")
@click.argument("item", type=ITEM_ID)
@click.argument("trigger")
@actor_opt
@click.option("--comment", help="Comment recorded with the move (some moves require one).")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="Set a field with the move (repeatable).")
@click.option("--file", "files", multiple=True, metavar="FIELD=PATH",
              help="Give a file field a file with the move (repeatable; a field that takes several, several times).")
@click.option("--expect-version", type=click.IntRange(1, 2**63 - 1), help="Fail with exit 4 unless the item is still at this version.")
@now_opt
@json_opt
@click.pass_context
def items_advance(ctx, item, trigger, actor, comment, fields, files, expect_version, now, as_json) -> None:
    """Move ITEM on by TRIGGER as the acting person."""
    from contextlib import ExitStack

    from workflow import service

    with ExitStack() as opened:
        given: dict[str, list] = {}
        for v in files:
            field, eq, path = v.partition("=")
            if not eq or not field.strip() or not path.strip():
                raise click.BadParameter(f"'{v}' should be FIELD=PATH", param_hint="--file")
            try:
                stream = opened.enter_context(open(path.strip(), "rb"))  # noqa: SIM115 (closed by the stack)
            except OSError as e:
                raise click.BadParameter(f"cannot read '{path.strip()}': {e.strerror or e}", param_hint="--file") from None
            given.setdefault(field.strip(), []).append((path.strip(), stream))
        r = service.advance(store(ctx), actor, item, trigger, parse_now(now), comment=comment, fields=pairs(fields, "--field"),
                            expected_version=expect_version, files=given or None)
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
    emit(r, as_json, lambda d: click.echo(f"{d.item} 字段已更新：{terminal.fields_text({k: v[1] for k, v in d.fields_changed.items()})}"
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
@viewer_opt
@json_opt
@click.pass_context
def items_history(ctx, item, actor, as_json) -> None:
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
                detail = (detail + " " if detail else "") + terminal.fields_text(given)
            rnd = f"第{e.round}轮" if e.round and e.round > 1 else ""
            click.echo(f"{e.seq:>6}  {e.at}  {line(e.actor_name or '—', 40)}  {e.kind_label}  {move}  {rnd}  {line(detail, 200)}".rstrip())
    emit(service.history(reader(ctx), actor or service.OPERATOR, item), as_json, text)


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


@items.command("files")
@click.argument("item", type=ITEM_ID)
@viewer_opt
@json_opt
@click.pass_context
def items_files(ctx, item, actor, as_json) -> None:
    """The documents given on ITEM: each with its id, name, size, type, SHA-256, field and round."""
    from workflow import service

    found = service.item_files(reader(ctx), actor or service.OPERATOR, item)
    if as_json:
        emit(found, True)
        return
    table([[f.id, f.name, f.size_text, f.type, f.field_label, f"{f.state_label} 第{f.round}轮", f.uploaded_by, f.uploaded_at,
            f.sha256[:12]] for f in found], ["编号", "文件名", "大小", "类型", "字段", "环节", "上传人", "时间", "SHA-256"])


@items.command("download")
@click.argument("item", type=ITEM_ID)
@click.argument("file_id", type=ITEM_ID)
@click.option("--output", required=True, metavar="PATH", help="Write the file here (a new file; '-': stdout).")
@viewer_opt
@click.pass_context
def items_download(ctx, item, file_id, output, actor) -> None:
    """Write document FILE_ID of ITEM to PATH (its bytes as stored, checked against their SHA-256)."""
    import hashlib
    import os
    import sys

    from workflow import service
    from workflow.errors import InvalidInput

    digest = hashlib.sha256()
    if output == "-":
        out = sys.stdout.buffer
        info = service.download(reader(ctx), actor or service.OPERATOR, item, file_id, lambda b: (digest.update(b), out.write(b)))
    else:
        if os.path.exists(output):
            raise click.BadParameter(f"'{output}' exists: name a new file", param_hint="--output")
        tmp = f"{output}.part"
        try:
            with open(tmp, "xb") as out:
                info = service.download(reader(ctx), actor or service.OPERATOR, item, file_id,
                                        lambda b: (digest.update(b), out.write(b)))
            if digest.hexdigest() != info.sha256:
                raise InvalidInput(f"文件 {file_id} 的内容与其 SHA-256 不符：请运行 wuzhuan audit verify")
            os.replace(tmp, output)
        except OSError as e:
            raise click.BadParameter(f"cannot write '{output}': {e.strerror or e}", param_hint="--output") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        click.echo(f"wrote {output} ({info.name}, {info.size_text})", err=True)


from commands.items_talk import (  # noqa: E402  (their own module, under `items`)
    items_acknowledge,
    items_comment,
    items_remind,
    items_return,
)

for _command in (items_comment, items_remind, items_acknowledge, items_return):
    items.add_command(_command)
