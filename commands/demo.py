"""`wuzhuan demo`: the real engine on a fresh database."""

from __future__ import annotations

from pathlib import Path

import click

from commands.base import emit, json_opt


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Where to create the demo (default: a new folder demo-<time>).")
@json_opt
def demo(directory: str | None, as_json: bool) -> None:
    """Run the real engine on a fresh SQLite database: a year of five special supervision items."""
    from workflow.demo import run_demo

    lines: list[str] = []
    out = run_demo(Path(directory) if directory else None, lines.append if as_json else click.echo)
    if as_json:
        emit({"directory": str(out), "database": str(out / "wuzhuan.db"), "log": lines}, True)
