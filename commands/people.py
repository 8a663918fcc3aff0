"""`wuzhuan people`: the directory, passwords, administrators and API tokens."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from commands.base import admin_opt, emit, json_opt, now_opt, parse_now, reader, store, table


@click.group("people")
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
