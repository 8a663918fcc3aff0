"""A child process's peak memory of its own (anonymous pages), read from /proc while it runs, beside its peak RSS.

RSS counts the pages of a database file that SQLite's memory map shares with the kernel's page cache: at a million
open items that is most of it, and it is not memory the process holds. The anonymous pages are.
"""

from __future__ import annotations

import contextlib
import subprocess
import time


def run_measured(cmd: list[str], cwd=None) -> tuple[str, float]:
    """Run `cmd`; → (its standard output, the peak of its anonymous memory in MB, sampled every 50 ms)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=cwd)
    peak = 0.0
    while proc.poll() is None:
        # the child may end between poll() and the read, or not have the line yet: that sample is simply skipped
        with contextlib.suppress(OSError, KeyError, ValueError):
            with open(f"/proc/{proc.pid}/smaps_rollup") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            peak = max(peak, int(fields["Anonymous"].split()[0]) / 1024)
        time.sleep(0.05)
    out = proc.stdout.read()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out)
    return out, peak
