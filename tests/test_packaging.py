"""The wheel an operator installs holds every module and data file of the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

SHIPPED = ("cli.py", "commands", "workflow", "notifier", "definitions")
LEFT_OUT = ("__pycache__", ".pyc")


def _source_files() -> set[str]:
    out = set()
    for top in SHIPPED:
        path = ROOT / top
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        out |= {str(p.relative_to(ROOT)) for p in files if not any(x in str(p) for x in LEFT_OUT)}
    return out


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file(tmp_path):
    """What a checkout (`pip install -e`) finds but a wheel leaves out — a data file matching no package-data
    pattern, a package outside the list — fails only on an operator's machine. Build the wheel, compare."""
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                        "-w", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("wuzhuan-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_source_files() - inside)
    assert not missing, f"not in the wheel: {missing}"
