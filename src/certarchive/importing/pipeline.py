"""The import of paper-era certificates, from file to committed batches.

Lines are read within limits (:func:`certarchive.cli.importer.read_lines`), validated
(:func:`certarchive.validation.existing.validate_existing_case`), checked against the
registry in groups (a line whose case is recorded with the same content is passed over:
a second run resumes), rendered and signed (in worker processes when there are several,
at most :data:`AHEAD_BATCHES` batches ahead of the commits, so memory stays flat), and committed
:attr:`Options.batch` lines per transaction (a bad line is rolled back alone).  Nothing is kept
between runs but the registry itself: a run killed at any point has committed whole
lines only, and the next run finds them.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from certarchive.i18n import bilingual
from certarchive.importing.workers import RenderSetup, pool, render_line
from certarchive.jsonread import JsonRefused
from certarchive.services.errors import ServiceError
from certarchive.services.existing import (
    CREATED,
    PRESENT,
    Line,
    agencies_for_import,
    already_imported,
    import_lines,
)
from certarchive.services.runtime import Runner
from certarchive.validation.case import CaseInvalid
from certarchive.validation.existing import validate_existing_case
from certarchive.workflow.engine import Actor

#: Lines committed per transaction (``--batch``): one fsync, one audit sequencing and one
#: write of each index bucket the lines share, for many lines.  4,000 lines on demand into
#: a fresh registry: 20 a batch, 38 s and 152 MB of Data.fs; 100, 30 s and 104 MB; 250,
#: 28 s and 78 MB (docs/performance.md).  100 keeps a transaction near a second (with the
#: files made now, two), short beside a serving process that commits too.
BATCH = 100
#: Lines checked against the registry per read transaction.
CHECK = 200
#: Batches rendered ahead of the commits, per worker.
AHEAD_BATCHES = 3
COUNT_BLOCK = 2**20


@dataclass
class ImportReport:
    lines: int = 0
    created: int = 0
    certificates: int = 0
    present: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    workers: int = 1
    on_demand: bool = False
    batch: int = BATCH


def describe_fields(fields: dict[str, str]) -> str:
    """A refusal's fields as one line of words for the command line: "path: 中文 / English; …"."""
    return "; ".join(f"{path}: {bilingual(problem)}" for path, problem in fields.items())


def describe_refused(refused: JsonRefused) -> str:
    label = "not JSON" if refused.kind == "invalid" else "refused"
    where = f" at {refused.path}" if refused.path else ""
    return f"{label}{where} ({bilingual(refused.message)})"


class Importer:
    """One run: ``progress(lines done)`` after each line is settled, ``bad(number,
    words)`` for each refused line."""

    def __init__(
        self,
        runner: Runner,
        actor: Actor,
        options: Options,
        progress: Callable[[int], None],
        bad: Callable[[int, str], None],
    ) -> None:
        self.runner, self.actor, self.options = runner, actor, options
        self._progress, self._bad = progress, bad
        self.report = ImportReport()

    def run(self, lines: Iterable[tuple[int, Any]]) -> ImportReport:
        settings = self.runner.settings
        formats = tuple(settings.formats)
        agencies = self.runner.run(agencies_for_import, self.actor, formats)
        todo = self._to_import(lines)
        if self.options.workers > 1 and not self.options.on_demand:
            setup = RenderSetup(
                settings.keys_dir,
                agencies,
                formats,
                str(settings.font_path) if settings.font_path else None,
                settings.public_base_url,
            )
            with pool(self.options.workers, setup) as workers:
                self._commit(self._rendered(todo, workers, set(agencies)))
                workers.close()
                workers.join()
        else:
            self._commit(todo)
        return self.report

    def _settle(self, number: int, problem: str | None = None) -> None:
        self.report.lines += 1
        if problem is not None:
            self.report.bad.append((number, problem))
            self._bad(number, problem)
        self._progress(self.report.lines)

    def _to_import(self, lines: Iterable[tuple[int, Any]]) -> Iterator[Line]:
        """Valid lines not imported before (the rest settled here)."""
        group: list[Line] = []
        for number, document in lines:
            if isinstance(document, JsonRefused):
                self._settle(number, describe_refused(document))
                continue
            try:
                group.append(Line.of(number, validate_existing_case(document)))
            except CaseInvalid as invalid:
                self._settle(number, describe_fields(invalid.fields))
                continue
            if len(group) >= CHECK:
                yield from self._new(group)
                group = []
        yield from self._new(group)

    def _new(self, group: list[Line]) -> Iterator[Line]:
        if not group:
            return
        found = self.runner.run(
            already_imported, self.actor, [(line.case_no, line.digest) for line in group]
        )
        for line, state in zip(group, found, strict=True):
            if state == PRESENT:
                self.report.present += 1
                self._settle(line.number)
            elif state is not None:
                self._settle(line.number, f"case_no: {state}")
            else:
                yield line

    def _rendered(self, todo: Iterator[Line], workers: Any, counties: set[str]) -> Iterator[Line]:
        """``todo`` with their files, rendered by ``workers`` in order, a bounded
        number ahead.  A line of no known agency is not rendered (its commit refuses it)."""
        waiting: collections.deque[tuple[Line, Any]] = collections.deque()
        limit = AHEAD_BATCHES * self.options.batch * self.options.workers
        for line in todo:
            known = line.case_no.split("-")[1] in counties
            waiting.append((line, workers.apply_async(render_line, (line,)) if known else None))
            while len(waiting) >= limit:
                yield _finished(*waiting.popleft())
        while waiting:
            yield _finished(*waiting.popleft())

    def _commit(self, todo: Iterable[Line]) -> None:
        batch: list[Line] = []
        for line in todo:
            batch.append(line)
            if len(batch) >= self.options.batch:
                self._commit_batch(batch)
                batch = []
        if batch:
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[Line]) -> None:
        outcomes = self.runner.run(import_lines, self.actor, batch, self.options.on_demand)
        for line in batch:
            outcome = outcomes[line.number]
            if outcome == CREATED:
                self.report.created += 1
                self.report.certificates += len(line.papers)
                self._settle(line.number)
            elif outcome == PRESENT:
                self.report.present += 1
                self._settle(line.number)
            else:
                assert isinstance(outcome, ServiceError)
                words = (
                    describe_fields(outcome.fields)
                    if outcome.fields
                    else bilingual(outcome.message)
                )
                self._settle(line.number, words)


def _finished(line: Line, rendering: Any) -> Line:
    return line if rendering is None else replace(line, files=rendering.get())


def count_lines(path: Path) -> int:
    """The lines of ``path`` (the progress bar's total; blank ones included), counted in
    blocks so that a file without line breaks cannot fill the memory."""
    count, last = 0, b"\n"
    with path.open("rb") as data:
        while block := data.read(COUNT_BLOCK):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
