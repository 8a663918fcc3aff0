"""`wuzhuan deputies`: the deputies' registry (人大代表 of five levels) from the people files."""

from __future__ import annotations

import click

from commands.base import emit, json_opt, reader, table, viewer_opt


@click.group("deputies")
def deputies_group() -> None:
    """The deputies (人大代表) of five levels: their mandates from the people files."""


@deputies_group.command("list")
@click.option("--level", type=click.Choice(["national", "provincial", "city", "county", "township"]),
              help="Only mandates of this level (全国, 省, 市, 县（区）, 乡镇).")
@click.option("--org", metavar="CODE", help="Only deputies in a unit of this organisation (`wuzhuan orgs list`).")
@viewer_opt
@json_opt
@click.pass_context
def deputies_list(ctx, level, org, actor, as_json) -> None:
    """One line (JSON: one object) per deputy and mandate: level, 选举单位, 代表小组, 联络站, 届次, since, until."""
    from workflow import service
    from workflow.service import deputies

    rows = deputies.list_deputies(reader(ctx), actor or service.OPERATOR, level=level, org=org)
    emit(rows, as_json, lambda r: table(
        [[x.code, x.name + ("" if x.active else "（停用）"), x.level_label, x.constituency or "", x.team or "",
          x.station or "", f"第{x.term}届" if x.term else "", x.since or "", x.until or ""] for x in r],
        ["代码", "姓名", "层级", "选举单位", "代表小组", "联络站", "届次", "起", "止"]))
