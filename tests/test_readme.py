"""The README's command session runs as written, in a shell, on a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def session_lines() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    block = text.split("A session at the command line:\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if not line.startswith("    "):
            break
        lines.append(line.strip())
    return lines


def test_the_readme_session_runs_as_written(tmp_path):
    lines = session_lines()
    assert lines[0].startswith("export WUZHUAN_DATABASE_URL=") and any("people import examples/people.yaml" in x for x in lines)
    for name in ("examples", "definitions"):  # the session names paths relative to a checkout
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUZHUAN_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "imported 13 people" in r.stdout
    assert "1 事项已创建：大气污染防治专项监督" in r.stdout and "1 提出选题：" in r.stdout
    assert "【红色督办单】〔2026〕人大督字第1号" in r.stdout  # the last line: a notice previewed as the template sends it
    assert "Traceback" not in r.stderr
