"""搜索 at scale: `python bench/search.py [--items 10000] [--runs 15] [--url URL]`.

Fills a fresh database (SQLite by default) with --items items whose titles and values are Chinese text, makes
their search rows (the first search after a restore or an upgrade does this: timed), then times searches for a
two-character word, a rare four-character one and two words, as the operator (every item) and as a group lead
(his items only), taking turns with the floor: the bare LIKE scan of the same rows in one statement. Prints
median and p95 in ms and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chain import reset  # noqa: E402
from sqlalchemy import text  # noqa: E402

from workflow import service, templates  # noqa: E402
from workflow.service import reads  # noqa: E402
from workflow.service.items import create_in  # noqa: E402
from workflow.store import Store, directory  # noqa: E402

TOPICS = ["养老服务体系建设", "义务教育均衡发展", "大气污染防治", "乡村振兴", "预算执行", "河道整治", "农村饮水安全",
          "食品安全", "医疗保障", "城市内涝治理", "营商环境", "安全生产", "文物保护", "消防救援", "公共交通"]
GROUPS = ["g-env", "g-budget", "g-edu", "g-rural", "g-elderly"]
FILLER = "关于进一步加强和改进相关工作的调研情况，听取意见建议，推动问题整改落实，形成长效机制。"


def build(url: str, n: int) -> None:
    store = Store(url)
    now = datetime.now(UTC)
    service.import_people(store, None, ROOT / "workflow" / "demo_people.yaml", now)
    for p in templates.builtin_paths():
        service.publish(store, "wang.fang", p, now)
    rnd = random.Random(7)
    with store.transaction() as tx:
        for k in range(n):
            topic = rnd.choice(TOPICS)
            rare = "雨污分流" if k % 997 == 0 else ""
            create_in(tx, store, "wang.fang", template="special_supervision", title=f"{topic}专项监督（{k}）", now=now,
                      group=rnd.choice(GROUPS), fields={"topic": f"{topic}{rare}{FILLER * 3}", "source": "社会关注"})
    store.dispose()


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--url", help="a database to fill (its contents are dropped); default a SQLite file in a temporary folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        url = args.url or f"sqlite:///{Path(work) / 'search.db'}"
        reset(url)
        t = time.perf_counter()
        build(url, args.items)
        print(f"{args.items} items in {time.perf_counter() - t:.1f} s ({url.split(':', 1)[0]})")
        store = Store(url)
        made = timed(lambda: reads.search_refresh(store))
        print(f"search rows made for all items: {made / 1000:.2f} s")
        with store.read() as tx:
            lead = directory.person(tx, "zhao.hua")
        now = datetime.now(UTC)
        print(f"{'query':<14}{'viewer':<10}{'found':>7}{'median ms':>11}{'p95 ms':>9}{'floor ms':>10}{'ratio':>7}")
        for q in ("养老", "雨污分流", "乡村 调研"):
            for name, viewer in (("operator", reads.OPERATOR), ("组长", lead)):
                ours, floor = [], []
                like = " AND ".join(f"body LIKE :t{i}" for i, _ in enumerate(q.split()))
                params = {f"t{i}": f"%{w}%" for i, w in enumerate(q.split())}
                sql = text(f"SELECT item_id FROM item_search WHERE {like}")
                for _ in range(args.runs):
                    ours.append(timed(lambda v=viewer, q=q: reads.search(store, v, q, now)))
                    with store.read() as tx:
                        floor.append(timed(lambda tx=tx, sql=sql, p=params: tx.execute(sql, p).all()))
                found = reads.search(store, viewer, q, now).total
                m, f = statistics.median(ours), statistics.median(floor)
                print(f"{q:<14}{name:<10}{found:>7}{m:>11.1f}{p95(ours):>9.1f}{f:>10.1f}{m / f:>7.1f}")
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
