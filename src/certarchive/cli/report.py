"""``certarchive report --all | --since DATE``: queue the catalogue of existing
certificates for the e-licence library (a library that joins later, Z-2's converted
paper-era certificates).

Batches of certificates, each its own transaction with its audit entry, so that an
interrupted run keeps what it queued; a certificate that has a report already (queued by
an earlier run, or since the library joined) is skipped, so running again queues nothing
twice and carries on where the last run stopped.  The serving process sends what is
queued (see docs/reporting.md).
"""

from __future__ import annotations

from datetime import datetime

import click

from certarchive.cli.common import CliState, fail, opened_runtime
from certarchive.cli.progress import Progress
from certarchive.i18n import _, bilingual
from certarchive.services import reporting
from certarchive.services.permissions import SYSTEM

pass_state = click.make_pass_decorator(CliState)


@click.command("report")
@click.option("--all", "everything", is_flag=True, help="every issued certificate")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="only certificates issued on or after this day (China time), YYYY-MM-DD",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 5000),
    default=reporting.BACKFILL_BATCH,
    show_default=True,
    help="certificates looked at per transaction",
)
@pass_state
def report(state: CliState, everything: bool, since: datetime | None, batch: int) -> None:
    """Queue the catalogue entry of existing certificates for the e-licence library."""
    if everything == (since is not None):
        fail(_("请给出 --all 或 --since DATE 之一"), 2)
    if not state.settings.reporting.configured:
        fail(
            _(
                "未配置电子证照库：请设置 certarchive.licence_library_url 和 "
                "certarchive.licence_library_key"
            ),
            1,
        )
    day = since.date().isoformat() if since else None
    totals = {"queued": 0, "skipped": 0, "scanned": 0}
    with opened_runtime(state) as runtime:
        total = runtime.run(reporting.certificates_to_scan, SYSTEM)
        progress = Progress(total, _("上报"), unit="certificates")
        position = None
        while True:
            done = runtime.run(reporting.backfill, SYSTEM, day, position, batch)
            for key in totals:
                totals[key] += done[key]
            progress.update(totals["scanned"])
            position = done["next"]
            if position is None:
                break
        progress.finish()
    click.echo(
        bilingual(
            _(
                "完成：${queued} 个上报已排队，${skipped} 个已有上报",
                mapping={"queued": totals["queued"], "skipped": totals["skipped"]},
            )
        )
    )
