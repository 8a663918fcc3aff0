"""`wuzhuan proposals`: 我献策 — a deputy's proposals to his 人大, their co-signers and the office's screening."""

from __future__ import annotations

import click

from commands.base import (
    ITEM_ID,
    actor_opt,
    emit,
    json_opt,
    now_opt,
    parse_now,
    reader,
    store,
    table,
    viewer_opt,
)


@click.group("proposals")
def proposals_group() -> None:
    """我献策: deputies' proposals (建议/建言), co-signed (联名) and screened by the office."""


def _line(p) -> str:
    signed = "、".join(f"{c.name}{'' if c.confirmed else '（待确认）'}" for c in p.cosigners)
    return f"建议 {p.id}「{p.title}」{p.author_name}（{p.author}）提出，{p.status_label}" + (f"；联名：{signed}" if signed else "")


@proposals_group.command("submit")
@click.option("--title", required=True, help="The proposal's title (at most 200 characters).")
@click.option("--text-file", required=True, type=click.Path(exists=True, dir_okay=False), help="Its text, UTF-8.")
@click.option("--cosigner", "cosigners", multiple=True, metavar="CODE", help="A deputy asked to co-sign (repeatable).")
@click.option("--org", metavar="CODE", help="The 人大 it goes to, when he is a deputy of several.")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def proposals_submit(ctx, title, text_file, cosigners, org, actor, now, as_json) -> None:
    """A deputy submits a proposal to his 人大; each co-signer confirms with `proposals cosign`."""
    from workflow.service import proposals
    from workflow.textfile import FileProblem, decode, read_bytes

    try:
        text = decode(read_bytes(text_file, 200_000, "proposal text"), text_file)
    except FileProblem as e:
        raise click.BadParameter(e.reason, param_hint="--text-file") from None
    r = proposals.submit(store(ctx), actor, title, text, parse_now(now), cosigners=list(cosigners), org=org)
    emit(r, as_json, lambda p: click.echo(_line(p)))


@proposals_group.command("cosign")
@click.argument("proposal", type=ITEM_ID)
@actor_opt
@now_opt
@json_opt
@click.pass_context
def proposals_cosign(ctx, proposal, actor, now, as_json) -> None:
    """A co-signer confirms PROPOSAL (联名), once, before it is screened."""
    from workflow.service import proposals

    emit(proposals.cosign(store(ctx), actor, proposal, parse_now(now)), as_json, lambda p: click.echo(_line(p)))


@proposals_group.command("list")
@click.option("--mine", is_flag=True, help="Only his own and those he is asked to co-sign.")
@click.option("--meeting", type=ITEM_ID, help="Only those listed for this 建言献策会 (a meeting's number).")
@viewer_opt
@json_opt
@click.pass_context
def proposals_list(ctx, mine, meeting, actor, as_json) -> None:
    """The newest proposals --actor may read (the operator at this shell: every one)."""
    from workflow import service
    from workflow.service import proposals

    rows = proposals.list_proposals(reader(ctx), actor or service.OPERATOR, mine=mine, meeting=meeting)
    emit(rows, as_json, lambda r: table([[p.id, p.title, f"{p.author_name}（{p.author}）", p.status_label,
                                          "、".join(c.name for c in p.cosigners), p.submitted] for p in r],
                                        ["编号", "标题", "提出人", "状态", "联名", "提出时间"]))


@proposals_group.command("screen")
@click.argument("proposal", type=ITEM_ID)
@click.option("--decision", required=True,
              type=click.Choice(["accept", "reject", "to_suggestion", "to_topic", "to_advisory_meeting"]),
              help="采纳, 不予采纳, 转为代表建议, 作为监督议题建议, 列入建言献策会.")
@click.option("--reason", help="Why (required to reject; the deputy reads it).")
@click.option("--meeting", type=ITEM_ID, help="The 建言献策会 (a meeting's number) for to_advisory_meeting.")
@actor_opt
@now_opt
@json_opt
@click.pass_context
def proposals_screen(ctx, proposal, decision, reason, meeting, actor, now, as_json) -> None:
    """The office of the proposal's 人大 screens PROPOSAL, once."""
    from workflow.service import proposals

    r = proposals.screen(store(ctx), actor, proposal, decision, parse_now(now), reason=reason, meeting=meeting)
    emit(r, as_json, lambda p: click.echo(_line(p) + (f"；事项 {p.item}" if p.item else "")))
