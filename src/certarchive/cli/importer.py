"""``certarchive import FILE.jsonl``: bulk case import with the API's validation.

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
from certarchive.i18n import _, bilingual
from certarchive.jsonread import JsonLimits, JsonRefused, read_json
from certarchive.services.cases import record_case
from certarchive.services.permissions import client_actor
from certarchive.validation.case import CaseInvalid, validate_case

pass_state = click.make_pass_decorator(CliState)
IMPORTER = client_actor("import", ("cases:write",))
MAX_REPORTED = 50


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
            label = "not JSON" if document.kind == "invalid" else "refused"
            where = f" at {document.path}" if document.path else ""
            problems.append(f"line {number}: {label}{where} ({bilingual(document.message)})")
            continue
        try:
            case_no = validate_case(document).case_no
        except CaseInvalid as invalid:
            fields = "; ".join(f"{k}: {bilingual(v)}" for k, v in invalid.fields.items())
            problems.append(f"line {number}: {fields}")
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
