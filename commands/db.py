"""`wuzhuan db`: the database schema, its upgrade and its backup."""

from __future__ import annotations

import click

from commands.base import emit, json_opt, reader, settings


@click.group()
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


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@json_opt
@click.pass_context
def db_backup(ctx: click.Context, path: str, as_json: bool) -> None:
    """Copy the running SQLite database to PATH (a new file): items, audit trail and documents together.
    PostgreSQL: use pg_dump (docs/deployment.md)."""
    from workflow import service

    r = service.backup_database(reader(ctx), path)
    emit(r, as_json, lambda d: click.echo(f"wrote {d.path}: {d.bytes:,} bytes, {d.items} items, {d.files} documents, "
                                          f"audit trail of {d.events} events"))
