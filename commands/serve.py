"""`wuzhuan serve` and `wuzhuan config`: the workbench process and the settings in force."""

from __future__ import annotations

import os
import signal
import sys

import click

from commands.base import emit, json_opt, settings, store, table


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (PostgreSQL only; SQLite serves from one process).")
@click.option("--base-url", metavar="URL", help="Where people reach the workbench (links in notices; https makes cookies Secure).")
@click.option("--trust-forwarded", is_flag=True, help="Behind a reverse proxy: honour X-Forwarded-For/-Proto (setting trust_forwarded).")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True, metavar="IPS",
              help="With --trust-forwarded: the proxy addresses whose X-Forwarded-* headers count.")
@click.option("--max-connections", default=256, show_default=True, type=click.IntRange(8, 100_000),
              help="Connections a worker holds at once; beyond them it answers 503 at once.")
@click.option("--keep-alive", "keep_alive", default=5, show_default=True, type=click.IntRange(1, 300), metavar="SECONDS",
              help="How long an idle kept-alive connection stays open.")
@click.option("--clock", "clock_kind", type=click.Choice(["wall", "demo"]), default="wall", show_default=True,
              help="demo: on the demo's (simulation) database only, act from the moment its story reached, onward.")
@click.pass_context
def serve(ctx, host, port, workers, base_url, trust_forwarded, forwarded_allow_ips, max_connections, keep_alive,
          clock_kind) -> None:
    """Run the workbench (督办工作台) for people's browsers and the JSON API, until SIGTERM/SIGINT."""
    import dataclasses

    import uvicorn

    from workflow.errors import InvalidInput, KeyRequired, Unavailable

    cfg = settings(ctx)
    if base_url:
        cfg = dataclasses.replace(cfg, base_url=base_url)
        os.environ["WUZHUAN_BASE_URL"] = base_url
    st = store(ctx)  # opened here: a bad URL or an outdated database is reported before the server starts
    try:
        st.check_writable()  # so is a signed audit trail without its key
    except Unavailable as e:
        if isinstance(e, KeyRequired):
            raise
        click.echo(f"warning: {e}; the workbench starts and answers 503 to what needs the database until it can "
                   "(no restart needed)", err=True)
    if st.dialect == "sqlite" and workers > 1:
        raise InvalidInput("SQLite serves from one process: use --workers 1, or PostgreSQL for several workers")
    clock = None
    if clock_kind == "demo":
        if workers > 1:
            raise InvalidInput("--clock demo serves from one process: use --workers 1")
        from workflow import service
        from workflow.present import fmt

        clock = service.running_from(service.simulation_clock(st))
        click.echo(f"demo clock: the workbench acts from {fmt(clock())} (Asia/Shanghai) on, as time passes", err=True)
    proxy = trust_forwarded or cfg.trust_forwarded
    click.echo(f"wuzhuan workbench on http://{host}:{port}/ (database {st.display_url}; {workers} worker(s))", err=True)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the handler it found:
    # this one, so that a stop asked for is exit 0 (as `scheduler run`), not death by signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if workers == 1:
        from workflow.web import create_app, serving

        st.settings = cfg
        uvicorn.run(serving(create_app(st, clock)), host=host, port=port, proxy_headers=proxy, forwarded_allow_ips=forwarded_allow_ips,
                    server_header=False, log_level="info", limit_concurrency=max_connections, timeout_keep_alive=keep_alive)
    else:
        os.environ["WUZHUAN_DATABASE_URL"] = st.url
        if ctx.find_root().obj.get("config"):
            os.environ["WUZHUAN_CONFIG"] = str(ctx.find_root().obj["config"])
        from workflow import web

        web.run_workers(workers, host=host, port=port, proxy_headers=proxy, forwarded_allow_ips=forwarded_allow_ips,
                        server_header=False, log_level="info", limit_concurrency=max_connections,
                        timeout_keep_alive=keep_alive)


@click.group("config")
def config_group() -> None:
    """Settings from wuzhuan.toml and WUZHUAN_* variables."""


@config_group.command("show")
@json_opt
@click.pass_context
def config_show(ctx, as_json) -> None:
    """The settings in force (the SMTP password only as set or not)."""
    data = settings(ctx).public()
    emit(data, as_json, lambda d: table([[k, "" if v is None else v] for k, v in d.items()], ["setting", "value"]))
