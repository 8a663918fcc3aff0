"""`wuzhuan audit`: the hash-chained audit trail verified and read."""

from __future__ import annotations

import click

from commands.base import emit, json_opt, reader


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("verify")
@click.option("--checkpoint", metavar="SEQ:CODE", help="Also check an earlier `audit checkpoint` the office kept.")
@click.option("--no-files", is_flag=True, help="Do not re-hash the documents' contents (faster on a large database).")
@json_opt
@click.pass_context
def audit_verify(ctx, checkpoint, no_files, as_json) -> None:
    """Check the whole trail, then the tables against it: exit 2 naming what changed.

    The first event modified, deleted, inserted, reordered or cut off; then every item's state, version,
    fields, finished and paused times, every step's due time, the role holders, the template versions, the
    administrators and disabled people, replayed from the trail and compared with the rows. With the audit
    key (setting audit_key_file, or WUZHUAN_AUDIT_KEY_FILE) the MACs and the binding checkpoint are checked
    too: a trail stripped of its signatures, cut back, or rewritten with every hash recomputed is found.
    Every document is re-hashed and held against the move that recorded it, unless --no-files.
    """
    from workflow import service
    from workflow.errors import InvalidInput

    r = service.verify_audit(reader(ctx, with_settings=True), checkpoint, files=not no_files)
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
        if r.files is not None:
            click.echo(f"documents: {r.files} contents re-hashed ({r.file_bytes:,} bytes), each file as its move recorded it")
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
