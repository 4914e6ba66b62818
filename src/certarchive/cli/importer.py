"""``certarchive import FILE.jsonl``: bulk case import with the API's validation, and
``certarchive import-existing FILE.jsonl``: certificates issued on paper (Z-2).

Two passes: first every line is parsed and validated, and if any is bad the command
names each (line number and fields) and imports nothing; then each case is recorded in
its own transaction through the same service the API uses, so a repeated import of the
same file records nothing twice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from certarchive.cli.common import CliState, fail, opened_runtime
from certarchive.cli.progress import Progress
from certarchive.crypto.keyring import KeyringError
from certarchive.i18n import _, bilingual
from certarchive.importing.pipeline import (
    BATCH,
    Importer,
    Options,
    count_lines,
    describe_fields,
    describe_refused,
)
from certarchive.jsonread import JsonLimits, JsonRefused, read_json
from certarchive.services.audit import sequence_logs
from certarchive.services.cases import record_case
from certarchive.services.permissions import client_actor
from certarchive.services.runtime import Runtime
from certarchive.validation.case import CaseInvalid, validate_case

pass_state = click.make_pass_decorator(CliState)
IMPORTER = client_actor("import", ("cases:write",))
EXISTING_IMPORTER = client_actor("import-existing", ("cases:write",))
MAX_REPORTED = 50
#: Objects the importing process keeps in its ZODB cache (ZODB's default is 10,000).  A
#: batch adds every certificate to some 36 index sets whose buckets lie all over a large
#: registry; with the default, a registry of 200,000 certificates reloaded about 900 of
#: them a batch.  About 200 MB more for the import, which is a batch job.
IMPORT_CACHE_OBJECTS = 200_000


#: The longest line read (a case document is a few kilobytes; the API's body limit is 1 MiB).
MAX_LINE_BYTES = 1024 * 1024
LINE_LIMITS = JsonLimits(MAX_LINE_BYTES)


def read_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON or the JsonRefused) for every non-blank line.

    Lines are read as bytes, at most MAX_LINE_BYTES at a time, so a file without line
    breaks cannot fill the memory; a longer line is reported, and skipped to its end."""
    with path.open("rb") as lines:
        number = 0
        while line := lines.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while (rest := lines.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield (
                    number,
                    JsonRefused(
                        "too_large",
                        _(
                            "行过长，上限${max_line_bytes}字节",
                            mapping={"max_line_bytes": MAX_LINE_BYTES},
                        ),
                    ),
                )
            elif line.strip():
                try:
                    yield number, read_json(line.rstrip(b"\r\n"), LINE_LIMITS)
                except JsonRefused as refused:
                    yield number, refused


def problems_of(path: Path) -> tuple[int, list[str]]:
    count, problems = 0, []
    seen: set[str] = set()
    for number, document in read_lines(path):
        count += 1
        if isinstance(document, JsonRefused):
            problems.append(f"line {number}: {describe_refused(document)}")
            continue
        try:
            case_no = validate_case(document).case_no
        except CaseInvalid as invalid:
            problems.append(f"line {number}: {describe_fields(invalid.fields)}")
            continue
        if case_no in seen:
            problems.append(f"line {number}: case_no repeats an earlier line")
        seen.add(case_no)
    return count, problems


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_state
def import_cases(state: CliState, file: str) -> None:
    """Record every case of a JSON-lines file (one case document per line)."""
    path = Path(file)
    count, problems = problems_of(path)
    if problems:
        for problem in problems[:MAX_REPORTED]:
            click.echo(problem, err=True)
        if len(problems) > MAX_REPORTED:
            click.echo(f"… and {len(problems) - MAX_REPORTED} more", err=True)
        fail(_("${len_problems} 行无效，未导入", mapping={"len_problems": len(problems)}), 1)
    created = 0
    with (
        opened_runtime(state) as runtime,
        click.progressbar(
            read_lines(path), length=count, label=_("导入"), file=sys.stderr
        ) as documents,
    ):
        for _number, document in documents:
            created += runtime.run(record_case, IMPORTER, document)["created"]
    click.echo(
        bilingual(
            _(
                "已导入（${created}，${count_created}）",
                mapping={"created": created, "count_created": count - created},
            )
        )
    )


@click.command("import-existing")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="processes that render and sign (the importing process commits)",
)
@click.option(
    "--files",
    "files",
    type=click.Choice(["now", "on-demand"]),
    default="now",
    show_default=True,
    help="make each file now, or at its first request",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=BATCH,
    show_default=True,
    help="lines committed per transaction",
)
@pass_state
def import_existing(state: CliState, file: str, workers: int, files: str, batch: int) -> None:
    """Import certificates issued on paper (存量证照): one case document a line whose
    certificates carry "serial" and "issued_at".  A second run skips what is imported;
    bad lines are named by number and nothing of them is imported (exit 1 at the end)."""
    path = Path(file)
    progress = Progress(count_lines(path), _("导入"))
    with opened_runtime(state) as runtime:
        if isinstance(runtime, Runtime):  # not beside a server, whose cache is its own
            runtime.db.setCacheSize(IMPORT_CACHE_OBJECTS)
        importer = Importer(
            runtime,
            EXISTING_IMPORTER,
            Options(workers=workers, on_demand=files == "on-demand", batch=batch),
            progress.update,
            lambda number, words: progress.note(f"line {number}: {words}"),
        )
        try:
            report = importer.run(read_lines(path))
        except KeyringError as exc:  # a worker could not open the keyring
            fail(_("密钥错误（${exc}）", mapping={"exc": exc}), 2)
        progress.finish()
        # The lines' audit entries wait in the queue; sequence them now (in bounded
        # batches), as init does, rather than leave millions for the next server start.
        sequence_logs(runtime)
    click.echo(
        bilingual(
            _(
                "已导入（${created}，${certificates}，${present}，${bad}）",
                mapping={
                    "created": report.created,
                    "certificates": report.certificates,
                    "present": report.present,
                    "bad": len(report.bad),
                },
            )
        )
    )
    if report.bad:
        fail(_("${bad} 行无效，未导入", mapping={"bad": len(report.bad)}), 1)
