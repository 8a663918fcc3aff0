"""Text for the terminal: an item, a template and tables as lines, every value escaped and cut to fit.

The command line prints what these return; they decide nothing and read nothing.
"""

from __future__ import annotations

from typing import Any

from .present import safe, width

CELL = 48  # columns a table cell may take before it is cut with …


def table_text(rows: list[list[Any]], headers: list[str]) -> str:
    """Columns aligned by display width (a Chinese character takes two), a rule under the headers."""
    cells = [[safe(c, CELL) for c in r] for r in [headers] + rows]
    widths = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c + " " * (widths[i] - width(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def line(text: Any, limit: int = 300) -> str:
    """A value from users, safe to print on a terminal line."""
    return safe(text, limit)


def _one(v) -> str:
    """A value of a list field: a unit, a name, or a file (its name)."""
    return str(v.get("name", v)) if isinstance(v, dict) else str(v)


def fields_text(values: dict) -> str:
    return "; ".join(f"{k}={line('、'.join(map(_one, v)) if isinstance(v, list) else v, 120)}" for k, v in values.items())


def item_text(d, rounds: bool = False) -> str:
    """`items show`: an item's step, owners, deadline, fields, roles, moves and steps."""
    out: list[str] = []
    out.append(f"#{d.id} {line(d.title)}  [{d.template_title} · 版本 {d.template_version} ({d.template_hash})]")
    light = "已办结" if d.finished else f"{d.light_label}灯"
    out.append(f"环节      {d.state_label} ({d.state})  {light}" + ("  已挂起" if d.paused else ""))
    out.append(f"承办      {d.owner_role_label or '—'}：{'、'.join(d.owners) or '—'}")
    st = d.step
    out.append(f"时限      {st.due}" + (f"（{st.due_rule}）" if st.due_rule else "")
               + ("  暂定（该年度国务院放假安排尚未导入）" if st.provisional else ""))
    if st.next_escalation:
        out.append(f"下次督办  {st.next_escalation}")
    out.append(f"版本      {d.version}   小组 {d.group or '—'}   本环节第 {st.round} 轮")
    if d.fields:
        out.append("字段      " + fields_text(d.fields))
    out.append("角色      " + "；".join(f"{r.label}（{r.role}）：{'、'.join(r.people)}" for r in d.roles))
    if d.parent:
        p = d.parent
        out.append(f"上级事项  #{p.id} {line(p.title)}：「{p.step_label}」交办 {p.unit_name}（{p.part}）"
                   + (f"；已随上级关闭：{line(p.closed, 200)}" if p.closed else ""))
    if d.children:
        out.append("\n子事项:")
        out.append(table_text([[c.id, f"{c.unit_name}（{c.part}）", c.state_label, c.due or "—", c.light_label, line(c.closed or "", 80)]
               for c in d.children], ["#", "承办单位", "环节", "时限", "灯", "关闭原因"]))
    if d.next:
        out.append("\n可办理:")
        out.append(table_text([[m.trigger, m.label, m.to_label, "、".join(m.role_labels), "、".join(m.requires),
                "是" if m.allowed_for_actor else ("否" if m.allowed_for_actor is False else "?")] for m in d.next],
              ["trigger", "名称", "转至", "角色", "需填写", "本人可办"]))
    status = {"pending": "待批", "approved": "已批准", "rejected": "未批准"}
    for x in d.extensions:
        out.append(f"延期申请 {x.id}：{status.get(x.status, x.status)} → {x.new_date}（{line(x.reason, 120)}，{x.requested_by} 申请）")
    if d.earlier_rounds:
        out.append("\n此前各环节、各轮填写的内容:")
        out.append(table_text([[s.seq, s.label, s.round, fields_text(s.values)] for s in d.earlier_rounds], ["#", "环节", "轮次", "内容"]))
    out.append("\n各环节:")
    out.append(table_text([[s.seq, s.label, s.round, s.entered, s.entered_by or ("系统" if s.via else ""), s.due, s.left or "（办理中）",
            s.left_by] for s in d.steps],
          ["#", "环节", "轮次", "进入", "经办", "时限", "离开", "经办"]))
    return "\n".join(out)


def template_text(d: dict) -> str:
    """`definitions show`: a template's roles, fields, states, rungs and transitions."""
    out: list[str] = []
    cal = {"cn": "中国工作日（含调休）", "none": "自然日"}.get(d["calendar"], d["calendar"])
    out.append(f"{d['title']} ({d['key']}, 版本 {d['version']}, 日历 {cal})")
    if d["description"]:
        out.append(line(d["description"], 400))
    out.append(f"起始环节 {d['initial']}   交办通知 {d['handover_notice'] or '—'}   督办单编号 {d['slip_pattern']}")
    if d["urgency"]:
        out.append(f"紧急程度 字段 {d['urgency']['field']}：" + "、".join(f"{k}→{v}" for k, v in d["urgency"]["start_rung"].items()))
    out.append("\n角色:")
    out.append(table_text([[r["role"], r["label"], "、".join(r["assignable_by"])] for r in d["roles"]], ["role", "名称", "可由谁指定"]))
    out.append("\n字段:")
    out.append(table_text([[f["name"], f["label"], f["type"], "、".join(map(str, f["choices"])) if f["choices"] else
            (f"计票：{f['tally']['for']}/{f['tally']['members']}（{'、'.join(f['tally']['results'])}）" if f["tally"] else ""),
            "是" if f["keep"] else "", "、".join(f["editable_by"]) if f["editable_by"] is not None else "（默认）"]
           for f in d["fields"]], ["field", "名称", "类型", "选项", "跨轮保留", "可修改"]))
    if d["counters"]:
        out.append("计数器: " + "；".join(f"{k}（{v}）" for k, v in d["counters"].items()))
    out.append("\n环节:")
    for st in d["states"]:
        if st["final"]:
            out.append(f"  {st['name']}  {st['label']}  （终点）")
            continue
        out.append(f"  {st['name']}  {st['label']}  承办 {st['owner']}" + (f"  标签 {'、'.join(st['tags'])}" if st["tags"] else ""))
        out.append(f"      时限 {st['deadline']}" + (f"；黄灯 {st['yellow']}" if st["yellow"] else "")
                   + f"；督办 {st['ladder']}")
        out.append(f"      可挂起 {'、'.join(st['pause_roles']) or '—'}；批准延期 {'、'.join(st['extension_approvers']) or '—'}"
                   f"；抄送 {'、'.join(st['cc']) or '—'}")
    out.append("\n督办级别:")
    seen = set()
    rows = []
    for s in d["states"]:
        for r in s["rungs"]:
            key = tuple(sorted((k, str(v)) for k, v in r.items()))
            if key not in seen:
                seen.add(key)
                rows.append([r["rung"], r["label"], r["when"], "、".join(r["notify"]), r["notice"], r["limit"] or "",
                             "是" if r["slip"] else "", r["meaning"]])
    out.append(table_text(rows, ["rung", "名称", "时间", "通知", "通知模板", "新限期", "编号", "含义"]))
    out.append("\n流转:")
    out.append(table_text([[t["trigger"], t["label"], " | ".join(t["from"]) + " → " + t["to"], "、".join(t["roles"]),
            "、".join(t["requires"]), "; ".join(t["guards"]), "需说明" if t["comment_required"] else "",
            "、".join(t["increments"])] for t in d["transitions"]],
          ["trigger", "名称", "from → to", "角色", "需填写", "条件", "意见", "计数"]))
    return "\n".join(out)
