"""``certarchive [-c CONFIG] COMMAND`` — the group and its commands."""

from __future__ import annotations

import os
import signal
import sys

import click
from zc.lockfile import LockError

from certarchive.cli.agency import agency
from certarchive.cli.audit import audit
from certarchive.cli.backup import backup
from certarchive.cli.common import (
    DEFAULT_CONFIG,
    IN_USE,
    CliState,
    emit_json,
    fail,
    opened_runtime,
)
from certarchive.cli.importer import import_cases, import_existing
from certarchive.cli.keys import keys
from certarchive.cli.principals import client, user
from certarchive.cli.report import report
from certarchive.cli.seal import seal
from certarchive.cli.verify import verify
from certarchive.config import ConfigError
from certarchive.content.evolve import RegistryOutdated
from certarchive.crypto.keyring import KeyringError
from certarchive.door import door_path
from certarchive.door.server import AdminDoor
from certarchive.i18n import _, bilingual
from certarchive.services.audit import sequence_logs
from certarchive.services.packing import pack_registry
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from certarchive.storage import restrict_new_files

pass_state = click.make_pass_decorator(CliState)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    default=lambda: os.environ.get("CERTARCHIVE_CONFIG", DEFAULT_CONFIG),
    show_default="$CERTARCHIVE_CONFIG, else etc/certarchive.ini",
    help="PasteDeploy ini file",
)
@click.pass_context
def cli(ctx: click.Context, config: str) -> None:
    """certarchive: 不动产登记电子证照 — issue, archive, verify and back up e-certificates."""
    restrict_new_files()
    ctx.obj = CliState(config)


@cli.command()
@click.option("--demo", type=click.IntRange(0, 100_000), default=0, help="add N demo cases")
@click.option(
    "--demo-logins",
    type=click.Path(dir_okay=False),
    default=None,
    help="with --demo: also create demo staff users and append their logins to this file",
)
@pass_state
def init(state: CliState, demo: int, demo_logins: str | None) -> None:
    """Create databases, registry, agency settings and seal key if absent (idempotent)."""
    from certarchive.services.demo import create_demo_users, load_demo

    with opened_runtime(state, create_keys=True) as runtime:
        created = runtime.run(initialise, SYSTEM, state.settings.agency)
        click.echo(
            bilingual(
                _("已创建（${created}）", mapping={"created": ", ".join(created)})
                if created
                else _("已是最新")
            )
        )
        if demo:
            added = load_demo(runtime, demo, progress=sys.stderr.isatty())
            click.echo(bilingual(_("演示案卷（${added}）", mapping={"added": added})))
        if demo and demo_logins:
            logins = create_demo_users(runtime)
            with open(demo_logins, "a", encoding="utf-8", opener=_private) as out:
                out.writelines("\t".join(login) + "\n" for login in logins)
            click.echo(
                bilingual(_("演示账号（${demo_logins}）", mapping={"demo_logins": demo_logins}))
            )
        sequence_logs(runtime)


#: How long a serving thread may keep the interpreter before another gets it (Python's
#: default is 5 ms).  waitress answers from several threads and one event loop; with the
#: default a thread that does not block held the others up to 5 ms at a time, which made
#: up most of the verification page's p99 under load.  At 1 ms bench/bench_web.py gave
#: the page 0.77–0.79 of hello world quiet and 0.62–0.69 busy, p99 24–27 and 32–44 ms,
#: against 0.72 and 0.58, p99 41 and 53 ms (docs/performance.md); 0.5 ms gave no more.
SWITCH_INTERVAL = 0.001


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=6543, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option(
    "--sequence-every",
    type=click.FloatRange(0.5, 3600),
    default=5.0,
    show_default=True,
    help="seconds between sequencing the audit and sharing logs",
)
@pass_state
def serve(state: CliState, host: str, port: int, threads: int, sequence_every: float) -> None:
    """Run waitress on the configured app."""
    import waitress
    from pyramid.paster import get_app, setup_logging

    from certarchive.services.backup_worker import worker_for
    from certarchive.services.sequencer import start_sequencer

    state.settings  # noqa: B018  validate the configuration before anything starts
    setup_logging(state.config)
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        app = get_app(os.path.abspath(state.config), "main")
    except (ConfigError, KeyringError, RegistryOutdated) as exc:
        fail(_("无法启动（${exc}）", mapping={"exc": exc}), 2)
    except LockError:
        fail(_("无法启动（${in_use}）", mapping={"in_use": IN_USE}), 2)
    door = open_door(app.registry.runtime)
    start_sequencer(app.registry.runtime, sequence_every)
    worker_for(app.registry.runtime).start()  # backup jobs, the schedule; recovers first
    # SIGTERM (systemd's stop) ends the serving loop as Ctrl-C does, so the door closes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"serving on http://{host}:{port}/")
    try:
        waitress.serve(app, host=host, port=port, threads=threads)
    finally:
        if door is not None:
            door.close()


def open_door(runtime: Runtime) -> AdminDoor | None:
    """On FileStorage, the door through which commands reach this server's databases
    (see :mod:`certarchive.door`); ZEO and RelStorage need none."""
    path = door_path(runtime.settings)
    if path is None:
        return None
    door = AdminDoor(runtime, path)
    door.open()
    return door


cli.add_command(agency)
cli.add_command(user)
cli.add_command(client)
cli.add_command(audit)
cli.add_command(backup)
cli.add_command(keys)
cli.add_command(seal)
cli.add_command(verify)
cli.add_command(import_cases)
cli.add_command(report)
cli.add_command(import_existing)


@cli.command()
@click.option(
    "--days",
    type=click.FloatRange(0, 3650),
    default=7.0,
    show_default=True,
    help="keep the revisions younger than this many days",
)
@pass_state
def pack(state: CliState, days: float) -> None:
    """Drop old revisions and garbage from the three databases (and their blobs)."""
    with opened_runtime(state) as runtime:
        sizes = runtime.invoke(pack_registry, days)
    for name, (before, after) in sizes.items():
        click.echo(f"{name}: {before:,} → {after:,} bytes")
    click.echo(bilingual(_("下次备份请做全量导出")))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
@pass_state
def check(state: CliState, as_json: bool) -> None:
    """Recompute every version and file digest and compare files with the registry."""
    from certarchive.services.integrity import check_registry

    with opened_runtime(state) as runtime:
        report = runtime.run(check_registry, SYSTEM)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(
            f"{report.certificates} certificates, {report.versions} versions, {report.files} files"
        )
        if report.earlier_format:
            click.echo(
                bilingual(
                    _(
                        "${earlier_format} 份现行文件为早期签名格式",
                        mapping={"earlier_format": report.earlier_format},
                    )
                )
            )
        if report.on_demand:
            click.echo(
                bilingual(
                    _(
                        "${on_demand} 份证书的文件将在首次请求时生成",
                        mapping={"on_demand": report.on_demand},
                    )
                )
            )
        for problem in report.problems:
            click.echo(f"  ✗ {bilingual(problem)}")
        for warning in report.warnings:
            click.echo(f"  ! {bilingual(warning)}")
    if not report.ok:
        fail(_("校验发现差异"), 1)
