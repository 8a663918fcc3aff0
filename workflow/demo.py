"""`wuzhuan demo`: the real engine on a fresh SQLite file — five items, refusals, a conflict, escalation."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from notifier.transports import FileTransport, MailConfig

from . import demo_docs, ledger_render, report_render, service, templates
from .calendar import TZ
from .config import Settings
from .errors import Conflict, InvalidInput, NotPermitted
from .service import accounts

PEOPLE = Path(__file__).parent / "demo_people.yaml"
ORGS = Path(__file__).parent / "demo_orgs.yaml"  # the districts as People's Congresses of their own
BASE_URL = "http://127.0.0.1:8000"  # where `wuzhuan serve` listens by default: the notices link there
PASSWORD = "wuzhuan-demo"  # everyone's workbench password, on the demo's own simulation database only

ITEMS = [  # (title, group, urgency)
    ("《大气污染防治法》实施情况专项监督", "g-env", "一般"),
    ("市级预算执行和其他财政收支情况专项监督", "g-budget", "一般"),
    ("义务教育优质均衡发展专项监督", "g-edu", "一般"),
    ("乡村振兴战略实施情况专项监督", "g-rural", "急"),
    ("养老服务体系建设专项监督", "g-elderly", "一般"),
]


NOTICE_NAMES = {"reminder": "到期提醒", "duban_blue": "蓝色督办单", "duban_yellow": "黄色督办单", "duban_red": "红色督办单",
                "handover": "交办通知", "digest": "通报"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def run_demo(directory: Path | None, say: Callable[[str], None]) -> Path:
    """Run the demo in `directory`, which must be new or empty: the demo never touches an existing database."""
    directory = directory or Path(f"demo-{datetime.now():%Y%m%d-%H%M%S}")
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} is a file: the demo needs a new or empty folder")
    if directory.is_dir() and any(directory.iterdir()):
        raise InvalidInput(f"{directory} is not empty: the demo creates its own database and never touches an existing "
                           "one; give a new or empty folder with --dir")
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "wuzhuan.db"
    store = service.open_store(f"sqlite:///{db}", Settings(mail_from="duban@rd.example.gov.cn", org_name="市人大常委会",
                                                            base_url=BASE_URL))
    service.mark_simulation(store, "demo", at("2026-01-05 09:00"))
    mail = FileTransport(directory / "outbox", MailConfig(sender="duban@rd.example.gov.cn", sender_name="市人大常委会督办系统"))
    say(f"wuzhuan demo — database {db}\n")

    t = at("2026-01-05 09:00")
    r = service.import_people(store, None, PEOPLE, t)
    say(f"imported {r.people} people in {r.units} units (the first import needs no administrator; 王芳 is one)")
    r = service.import_people(store, "wang.fang", ORGS, t)
    say(f"imported {ORGS.name}: 东城区 and 西城区 as People's Congresses of their own, and a township under 东城区")
    for path in templates.builtin_paths():
        p = service.publish(store, "wang.fang", path, t)
        say(f"王芳 published template {p.key} (version {p.version}, {p.hash[:12]})")
    say("")

    ids = []
    for title, group, urgency in ITEMS:
        ids.append(service.create_item(store, "wang.fang", template="special_supervision", title=title, now=t,
                                       group=group, fields={"urgency": urgency}).id)
    say(f"王芳 (office) created items {', '.join(map(str, ids))} for the year's five special supervision topics")

    def step(item_id: int, trigger: str, actor: str, when: str, **kw) -> None:
        r = service.advance(store, actor, item_id, trigger, at(when), **kw)
        say(f"  {when}  item {item_id}: {r.label} by {actor} → '{r.to_label}', due {r.due}")

    say("\nMoving the items on, as the right people:")
    for n, item_id in enumerate(ids):
        step(item_id, "propose", "wang.fang", f"2026-01-{8 + n:02d} 10:00",
             fields={"topic": ITEMS[n][0], "source": ["社会关注", "组成人员意见", "代表建议", "专委调研", "来信来访"][n]})
    m = service.add_meeting(store, "wang.fang", "常委会会议", "2026-06-25", "市人大常委会第二十次会议", at("2026-01-20 14:00"))
    say(f"  王芳 registered meeting {m.id}: {m.kind} {m.day} {m.title} (items name it instead of copying its date)")
    for n, item_id in enumerate(ids[:4]):
        if n == 1:
            continue  # item 2 is adopted in the conflict below
        given = {"meeting": str(m.id)} if n == 0 else {"meeting_date": ["", "", "2026-08-27", "2026-10-29"][n]}
        step(item_id, "adopt_plan", "li.ming", "2026-01-20 15:00", fields=given)

    say("\nA refused attempt: the department's clerk tries to adopt the plan himself:")
    try:
        service.advance(store, "song.kai", ids[4], "adopt_plan", at("2026-01-21 09:00"), fields={"meeting_date": "2026-12-24"})
    except NotPermitted as e:
        say(f"  refused (exit 3): {e}")

    say("\nA conflict: 李明 and 郑宇 both open item 2 and press 'adopt plan' at the same moment:")
    seen = service.current_version(store, ids[1])
    barrier, outcome = threading.Barrier(2), {}

    def press(actor: str) -> None:
        barrier.wait()
        try:
            service.advance(store, actor, ids[1], "adopt_plan", at("2026-01-21 10:00"), fields={"meeting_date": "2026-08-27"},
                            expected_version=seen)
            outcome[actor] = "succeeded"
        except Conflict as e:
            outcome[actor] = f"conflict (exit 4): {e}"

    threads = [threading.Thread(target=press, args=(a,)) for a in ("li.ming", "zheng.yu")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for actor, what in outcome.items():
        say(f"  {actor}: {what}")

    step(ids[0], "approve_work_plan", "chen.jing", "2026-01-27 16:00", fields={"plan_doc": "常办发〔2026〕3号"})
    step(ids[2], "approve_work_plan", "he.yan", "2026-02-10 11:00", fields={"plan_doc": "常办发〔2026〕7号"})
    step(ids[0], "finish_research", "zhao.hua", "2026-03-20 17:00", fields={"research_report": "大气污染防治调研报告"})

    r = service.move_meeting(store, "wang.fang", m.id, "2026-07-02", at("2026-03-25 09:00"))
    say("\nThe meeting may move to 2026-07-02; a dry run lists the deadlines that would follow it: "
        + "; ".join(f"item {x.item} '{x.state_label}' {x.old_due} → {x.new_due}" for x in r.items)
        + f"\n  (wuzhuan meetings move {m.id} --to 2026-07-02 --apply would move them and tell their owners)")

    say("\nThe elderly-care group pauses its plan step while the topic is re-scoped (挂起), then resumes:")
    r = service.pause(store, "li.ming", ids[4], "主任会议要求调整监督重点", at("2026-01-22 09:00"))
    say(f"  paused at {r.paused_at} (was due {r.due})")
    r = service.resume(store, "li.ming", ids[4], at("2026-02-02 09:00"), "重点已调整")
    say(f"  resumed: due {r.old_due} → {r.due} (+{r.added} {r.unit})")

    say("\nThe education group asks for more time for its research (延期申请); its 分管副主任 approves:")
    r = service.request_extension(store, "sun.li", ids[2], "需增加两个区县的实地检查", "2026-05-15", at("2026-03-30 10:00"))
    say(f"  request {r.id}: due {r.due} → {r.new_date}")
    try:
        service.decide_extension(store, "sun.li", r.id, True, at("2026-03-30 10:05"), "同意")
    except NotPermitted as e:
        say(f"  孙丽 tries to approve her own request — refused (exit 3): {e}")
    r = service.decide_extension(store, "zhao.hua", r.id, True, at("2026-03-31 10:00"), "同意")
    say(f"  approved by 赵华 (分管副主任): due now {r.due}")

    say("\nLast year's 审议意见 on air pollution go to three departments at once (sub-items, one per department):")
    op = service.create_item(store, "wang.fang", template="opinion_handling", title="关于大气污染防治工作情况报告的审议意见",
                             now=at("2026-02-02 09:00"), group="g-env").id
    opinions = demo_docs.docx("关于大气污染防治工作情况报告的审议意见", "常办〔2026〕3号",
                              "一、加大重点行业减排力度。", "二、完善大气污染联防联控机制。", "三、请于三个月内报告整改情况。")
    service.advance(store, "wang.fang", op, "hand_over", at("2026-02-02 10:00"),
                    fields={"opinions": "常办〔2026〕3号", "units": "d-env,d-edu,d-agri"},
                    files={"opinions_file": [("审议意见书.docx", io.BytesIO(opinions))]})
    kids = service.show_item(store, service.OPERATOR, op, at("2026-02-02 10:00")).children
    for c in kids:
        say(f"  item {c.id}: {c.unit_name}（{c.part}）, owned by its own staff, due {c.due}")
    for c, person, day in ((kids[0], "huang.bo", "2026-03-10"), (kids[1], "xu.na", "2026-03-20")):
        report = demo_docs.docx(f"{c.unit_name}整改情况报告", "按照审议意见，逐条整改如下：", "一、……已完成。")
        service.advance(store, person, c.id, "report", at(f"{day} 09:00"), fields={"measures_report": "逐条整改，已完成"},
                        files={"measures_file": [("整改情况报告.docx", io.BytesIO(report))],
                               "evidence": [("现场照片.png", io.BytesIO(demo_docs.png(96, 64, (70, 130, 180))))]})
    service.advance(store, "chen.jing", kids[0].id, "accept", at("2026-03-11 09:00"))
    say(f"  {kids[0].unit_name} finished; {kids[1].unit_name} reported; {kids[2].unit_name} has not — item {op} waits "
        "for all three, and its light will be the worst of theirs")
    js = service.create_item(store, "wang.fang", template="joint_supervision", title="市县联动：农村生活污水治理",
                             now=at("2026-02-03 09:00"), group="g-env").id
    service.advance(store, "chen.jing", js, "start_inspection", at("2026-02-10 09:00"),
                    fields={"topic": "农村生活污水治理", "districts": "q-dongcheng,q-xicheng,q-nanhu"})
    districts = service.show_item(store, service.OPERATOR, js, at("2026-02-10 09:00")).children
    for c, congress in zip(districts, ("deng.yun", "bai.xue", "jiang.ning"), strict=True):
        service.advance(store, congress, c.id, "report_findings", at("2026-03-05 09:00"), fields={"findings": "检查情况"})
        service.advance(store, "zhao.hua", c.id, "accept", at("2026-03-06 09:00"))
    j = service.show_item(store, service.OPERATOR, js, at("2026-03-06 09:00"))
    say(f"  市县联动 item {js}: one sub-item per district ({'、'.join(c.unit_name for c in j.children)}); 东城区's and "
        "西城区's belong to those districts (their own office and 主任会议; the city's group lead and office watch them, "
        f"知会); when the last was accepted the system moved item {js} on to '{j.state_label}' by itself")

    say("\nThe clock moves on; the scheduler sweeps every morning at 09:00 and fires what is due (each rung once):")
    fired: dict[str, int] = {}
    day = at("2026-01-06 09:00")
    while day <= at("2026-04-20 09:00"):
        r = service.sweep(store, day)
        if r.fired:
            fired[day.astimezone(TZ).strftime("%Y-%m")] = fired.get(day.astimezone(TZ).strftime("%Y-%m"), 0) + r.fired
        day += timedelta(days=1)
    for month, n in fired.items():
        say(f"  {month}: {n} rungs fired")
    r = service.sweep(store, at("2026-04-20 09:00"))
    say(f"  the same sweep again: {r.fired} fired (nothing twice)")

    say("\n代表参与 and 比创新: the group lead and the office record the deputies' activities; the council scores innovation:")
    for who, n, kind, day, deputies in (("zhao.hua", 0, "视察", "2026-03-12", ["feng.xia", "zhu.hong"]),
                                        ("wang.fang", 2, "调研", "2026-03-18", ["qin.lei"]),
                                        ("wang.fang", 3, "执法检查", "2026-04-08", ["yao.jie", "feng.xia", "qin.lei"])):
        a = service.add_activity(store, who, ids[n], kind=kind, day=day, deputies=deputies, now=at(f"{day} 18:00"))
        say(f"  item {a.item}: {a.kind} on {a.day} with {'、'.join(a.deputies)}")
    for group, points in (("g-env", 90), ("g-edu", 85), ("g-rural", 80), ("g-budget", 72), ("g-elderly", 70)):
        service.set_score(store, "li.ming", group, points, at("2026-04-15 10:00"), comment="创新做法")
    say("  李明 (主任会议) scored each group's innovation once (a second score for the same group is refused)")
    b = service.board(store, "2026-04-20", "2026-03-20")
    say(f"\nThe board (比进度·比创新·比质效) on {b.as_of}, against {b.previous}:")
    for row in b.rows:
        moved = "" if not row.change else (f" ↑{row.change}" if row.change > 0 else f" ↓{-row.change}")
        say(f"  {row.rank}. {row.unit_name} {row.score} {row.colour_label} (was {row.previous_rank}{moved})")
    d = service.send_digest(store, at("2026-04-20 09:00"))
    say(f"  the weekly 通报 for {d.period} was queued to the council and the office ({d.messages} message; "
        "the scheduler sends it once a week, never twice)")

    r = service.deliver(store, mail, at("2026-04-20 09:05"))
    kinds: dict[str, int] = {}
    messages = service.list_outbox(store, limit=1000)
    for m in messages:
        kinds[m.notice] = kinds.get(m.notice, 0) + 1
    say(f"\nDelivered {r.sent} notices as .eml files in {directory / 'outbox'} "
        f"({', '.join(f'{NOTICE_NAMES.get(k, k)} {n}' for k, n in sorted(kinds.items()))}); one message per rung, "
        "To the step's owner, Cc those informed. The latest red slip:")
    red = next((m for m in messages if m.notice == "duban_red"), None)
    if red is not None:
        say(f"  {red.subject}\n    To: {red.to}\n    Cc: {red.cc or '—'}")
    say(f"  Notices link to the workbench ({BASE_URL}/items/…).")

    say("\nWhere each item stands on 2026-04-20:")
    for row in reversed(service.list_items(store, service.OPERATOR, at("2026-04-20 09:00"))):
        say(f"  #{row.id} [{row.light_label}] {row.title} — {row.state_label}" + ("" if row.finished else f", due {row.due}")
            + (" (paused)" if row.paused else ""))
    reports = directory / "reports"
    reports.mkdir()
    report_render.board_xlsx(b, reports / "board.xlsx")
    ledger_render.ledger_xlsx(service.ledger(store, at("2026-04-20 09:00")), reports / "ledger.xlsx")
    res = service.results(store, 2026, at("2026-04-20 09:00"))
    (reports / "results.html").write_text(report_render.results_html(res), encoding="utf-8")
    try:
        report_render.results_pdf(res, reports / "results.pdf")
        pdf = " and results.pdf"
    except InvalidInput as e:  # no Pango on this machine: the rest of the demo stands
        pdf = f" (no PDF: {e})"
    say(f"\nReports in {reports}: board.xlsx (排名), ledger.xlsx (台账), results.html{pdf} (成果报告, with charts)")
    t = at("2026-04-20 09:05")
    own = [service.create_item(store, clerk, template="special_supervision", title=title, now=t, group=group).id
           for clerk, title, group in (("liu.yang", "东城区河道整治专项监督", "dc-river"),
                                       ("cao.yu", "西城区义务教育均衡发展专项监督", "xc-school"))]
    roots = service.list_orgs(store)
    tree = "; ".join(f"{o.name}: " + "、".join(k.name + (f"（{'、'.join(g.name for g in k.children)}）" if k.children else "")
                                               for k in o.children) for o in roots)
    say(f"\nOrganisations — {tree}. 东城区 (刘洋 liu.yang) and 西城区 (曹宇 cao.yu) each created an item of their own "
        f"(#{own[0]}, #{own[1]}) with their own office and 主任会议: each district's staff see only their district's "
        "items, the city's staff not the districts' own (docs/people.md, \"Organisations\").")
    n = accounts.demo_passwords(store, PASSWORD, at("2026-04-20 09:10"))
    service.set_simulation_clock(store, at("2026-04-20 09:10"))  # where `serve --clock demo` starts
    v = service.verify_audit(store)
    exe = sys.argv[0] if Path(sys.argv[0]).name == "wuzhuan" else "wuzhuan"
    say(f"\naudit trail: {'intact' if v.ok else 'BROKEN'}, {v.events} events.\n"
        f"Look around: {exe} --db sqlite:///{db} items list --now 2026-04-20T09:00\n"
        f"             {exe} --db sqlite:///{db} items show 1 --now 2026-04-20T09:00\n"
        f"\nOpen the workbench (督办工作台) on this database:\n"
        f"             {exe} --db sqlite:///{db} serve --clock demo\n"
        f"  then browse http://127.0.0.1:8000/ and log in as li.ming (主任会议), zhao.hua (组长), chen.jing (工委),\n"
        f"  wang.fang (办公室, administrator), luo.gang (承办单位: 市农业农村局's 整改落实 waits for him) or\n"
        f"  liu.yang (东城区人大办公室) — the demo gave its {n} people the password {PASSWORD}.\n"
        f"  With --clock demo the workbench acts from the demo's 2026-04-20 09:10 on (its lights are the story's);\n"
        f"  without it, at the wall clock (every item long overdue).")
    store.dispose()
    return directory
