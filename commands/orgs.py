"""`wuzhuan orgs`: the organisations (人大常委会 of the city, its districts and townships) of the deployment."""

from __future__ import annotations

import click

from commands.base import emit, json_opt, reader


@click.group("orgs")
def orgs_group() -> None:
    """Organisations: the People's Congresses (市·县区·乡镇) of this deployment."""


@orgs_group.command("list")
@json_opt
@click.pass_context
def orgs_list(ctx, as_json) -> None:
    """The organisations as a tree, one a line, each under the one above it (from the people file's `organisations`)."""
    from workflow import service

    def text(roots) -> None:
        if not roots:
            click.echo("没有登记组织：所有单位和事项属于同一个人大（人员文件的 organisations 可登记市、县区、乡镇人大）")

        def walk(o, depth: int) -> None:
            slip = f"  代字 {o.slip_code}" if o.slip_code else ""
            click.echo(f"{'  ' * depth}{o.code}  {o.name}（{o.level_label}）{slip}")
            for k in o.children:
                walk(k, depth + 1)
        for r in roots:
            walk(r, 0)
    emit(service.list_orgs(reader(ctx)), as_json, text)
