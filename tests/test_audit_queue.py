"""Where entries wait before they are sequenced: the outbox in the main database, or the
log's own database (``certarchive.audit_queue``), and the move between them (H-5.2.4).

Every test runs on real FileStorage files; "which database did a transaction write" is
read from each storage's last transaction id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from BTrees.OOBTree import OOBTree

from certarchive.audit.log import get_log
from certarchive.audit.queue import QueueTree, get_outbox
from certarchive.config import ConfigError, load_settings
from certarchive.services import audit as audit_services
from certarchive.services import cases
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from certarchive.validation.samples import sample_case
from tests.conftest import UPSTREAM, file_settings, log_entries, write_ini

DATABASES = ("main", "audit", "sharing")
PAYMENT = {"receipt_no": "R-1", "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}


def open_runtime(var: Path, **overrides: str) -> Runtime:
    runtime = Runtime.open(load_settings(file_settings(var, **overrides)), create_keys=True)
    runtime.run(initialise, SYSTEM, runtime.settings.agency)
    return runtime


def settled(runtime: Runtime) -> Runtime:
    """Sequence what ``init`` logged, and let the logs forget the keys they moved."""
    audit_services.sequence_logs(runtime)
    audit_services.sequence_logs(runtime)
    return runtime


def last_transactions(runtime: Runtime) -> dict[str, bytes]:
    return {name: runtime.db.databases[name].lastTransaction() for name in DATABASES}


def written(runtime: Runtime, before: dict[str, bytes]) -> set[str]:
    """The databases that committed a transaction since ``before``."""
    after = last_transactions(runtime)
    return {name for name in DATABASES if after[name] != before[name]}


def queue_sizes(ctx: Any) -> dict[str, int]:
    """Entries waiting in the outbox, waiting in the log's database, and sequenced."""
    log = get_log(ctx.conn, "audit")
    return {
        "outbox": len(get_outbox(ctx.conn).queue("audit")),
        "log": len(log.pending),
        "sequenced": log.size,
        "moved": len(log.moved or ()),
    }


@pytest.fixture
def registry(tmp_path: Path) -> Any:
    runtime = settled(open_runtime(tmp_path / "var"))
    yield runtime
    runtime.close()


def test_an_entry_commits_with_its_change_in_the_main_database(registry: Runtime) -> None:
    """audit_queue = main (the default): one storage commit holds the change and its
    entries; the audit database is not part of the request's transaction."""
    before = last_transactions(registry)
    sizes = registry.run(queue_sizes, SYSTEM)
    registry.run(cases.record_case, UPSTREAM, sample_case(0))
    assert written(registry, before) == {"main"}
    after = registry.run(queue_sizes, SYSTEM)
    assert after["outbox"] - sizes["outbox"] == 3  # case.create, case.record, certificate.create
    assert after["sequenced"] == sizes["sequenced"] and after["log"] == 0
    actions = [e["action"] for e in registry.run(log_entries, SYSTEM)][-3:]
    assert sorted(actions) == ["case.create", "case.record", "certificate.create"]
    assert registry.run(audit_services.verify, SYSTEM, "audit").pending == 3
    before = last_transactions(registry)
    registry.run(cases.confirm_payment, UPSTREAM, sample_case(0)["case_no"], PAYMENT)
    assert written(registry, before) == {"main"}  # issuing: the PDF and three entries


def test_sequencing_moves_entries_one_database_at_a_time(registry: Runtime) -> None:
    """Integration writes only the logs' databases, removal from the outbox only the main
    one: no transaction of the move spans two storages."""
    registry.run(cases.record_case, UPSTREAM, sample_case(0))
    queued = registry.run(queue_sizes, SYSTEM)

    before = last_transactions(registry)
    checkpoints = registry.run(audit_services.integrate_logs, SYSTEM)
    assert written(registry, before) == {"audit"}
    moved = registry.run(queue_sizes, SYSTEM)
    assert moved["sequenced"] == queued["sequenced"] + 3 == checkpoints["audit"]["size"]
    assert moved["outbox"] == queued["outbox"] and moved["moved"] == 3

    before = last_transactions(registry)
    assert registry.run(audit_services.remove_moved, SYSTEM) == 3
    assert written(registry, before) == {"main"}
    assert registry.run(queue_sizes, SYSTEM)["outbox"] == 0

    before = last_transactions(registry)
    assert audit_services.sequence_logs(registry) == {"audit": None, "sharing": None}
    assert written(registry, before) == {"audit"}  # it forgets the moved keys
    assert registry.run(queue_sizes, SYSTEM)["moved"] == 0
    before = last_transactions(registry)
    audit_services.sequence_logs(registry)
    assert written(registry, before) == set()  # an idle round writes nothing
    report = registry.run(audit_services.verify, SYSTEM, "audit")
    assert report.ok and report.pending == 0


def test_a_long_queue_is_sequenced_in_bounded_batches(
    registry: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a bulk import millions of entries wait: each integration takes at most
    SEQUENCE_BATCH of them (its own transaction, its own checkpoint), entries from the
    outbox and from the log's own queue merged in key order, until none is left."""
    monkeypatch.setattr(audit_services, "SEQUENCE_BATCH", 4)
    for n in range(3):
        registry.run(cases.record_case, UPSTREAM, sample_case(n))  # 3 entries each, outbox
        registry.run(lambda ctx: ctx.audit("certificate.read", "c:1"), SYSTEM)  # own queue
    start = registry.run(queue_sizes, SYSTEM)["sequenced"]
    queued = registry.run(
        lambda ctx: get_log(ctx.conn, "audit").queued(get_outbox(ctx.conn)), SYSTEM
    )
    total = len(queued)
    assert total >= 12 and [key for key, *_ in queued] == sorted(k for k, *_ in queued)
    assert {from_outbox for *_, from_outbox in queued} == {True, False}  # both queues

    first = registry.run(audit_services.integrate_logs, SYSTEM)
    assert first["audit"]["size"] == start + 4
    newest = audit_services.sequence_logs(registry)
    assert newest["audit"]["size"] == start + total
    sizes = registry.run(queue_sizes, SYSTEM)
    assert sizes["sequenced"] == start + total and sizes["outbox"] == sizes["log"] == 0
    checkpoints = registry.run(lambda ctx: len(get_log(ctx.conn, "audit").checkpoints), SYSTEM)
    assert checkpoints >= -(-total // 4)  # one a batch of at most 4
    actions = [e["action"] for e in registry.run(log_entries, SYSTEM)][-total:]
    assert actions == [a for _k, value, _o in queued for a in [json.loads(value)["action"]]]
    report = registry.run(audit_services.verify, SYSTEM, "audit")
    assert report.ok and report.pending == 0


@pytest.mark.parametrize("log", ["audit", "sharing"])
def test_an_entry_alone_is_written_to_its_log_database_only(registry: Runtime, log: str) -> None:
    """A transaction that changes nothing but writes an entry (a refusal, a bank's read)
    leaves the main database alone: the page cache goes by its last transaction id."""
    before = last_transactions(registry)
    registry.run(lambda ctx: ctx.audit("certificate.read", "certificate:1", log=log), SYSTEM)
    assert written(registry, before) == {log}
    before = last_transactions(registry)
    audit_services.sequence_logs(registry)
    assert written(registry, before) == {log}  # sequenced there; nothing to remove in main
    assert [e["object"] for e in registry.run(log_entries, SYSTEM, log)][-1] == "certificate:1"


def test_a_stop_between_the_two_transactions_loses_and_repeats_nothing(tmp_path: Path) -> None:
    """The process ends after integrating and before removing from the outbox; after a
    restart, sequencing neither repeats those entries nor drops the ones queued since."""
    var = tmp_path / "var"
    runtime = open_runtime(var)
    audit_services.sequence_logs(runtime)
    runtime.run(cases.record_case, UPSTREAM, sample_case(0))
    runtime.run(audit_services.integrate_logs, SYSTEM)  # ... and no remove_moved
    runtime.close()

    runtime = open_runtime(var)
    try:
        stranded = runtime.run(queue_sizes, SYSTEM)
        assert stranded["outbox"] == 3 and stranded["moved"] == 3
        runtime.run(cases.record_case, UPSTREAM, sample_case(3))
        audit_services.sequence_logs(runtime)
        audit_services.sequence_logs(runtime)
        final = runtime.run(queue_sizes, SYSTEM)
        assert final == {
            "outbox": 0,
            "log": 0,
            "sequenced": stranded["sequenced"] + 3,
            "moved": 0,
        }
        objects = [e["object"] for e in runtime.run(log_entries, SYSTEM)]
        for case_no in (sample_case(0)["case_no"], sample_case(3)["case_no"]):
            assert objects.count(f"case:{case_no}") == 2  # case.create and case.record
        assert runtime.run(audit_services.verify, SYSTEM, "audit").ok
    finally:
        runtime.close()


def test_the_log_database_queue_commits_in_the_same_transaction(tmp_path: Path) -> None:
    """audit_queue = log: entries commit in the audit database, by two-phase commit with
    the change, and never enter the main database."""
    runtime = open_runtime(tmp_path / "var", **{"certarchive.audit_queue": "log"})
    try:
        audit_services.sequence_logs(runtime)
        before = last_transactions(runtime)
        runtime.run(cases.record_case, UPSTREAM, sample_case(0))
        assert written(runtime, before) == {"main", "audit"}
        sizes = runtime.run(queue_sizes, SYSTEM)
        assert sizes["log"] == 3 and sizes["outbox"] == 0
        audit_services.sequence_logs(runtime)
        assert runtime.run(queue_sizes, SYSTEM)["sequenced"] == sizes["sequenced"] + 3
        report = runtime.run(audit_services.verify, SYSTEM, "audit")
        assert report.ok and report.pending == 0
    finally:
        runtime.close()


def test_entries_queued_both_ways_are_sequenced_in_time_order(tmp_path: Path) -> None:
    """Entries wait in both queues (a change's in the outbox, an entry alone or under
    ``audit_queue = log`` in the log's database); they are merged in the order they were
    written."""
    var = tmp_path / "var"
    settled(open_runtime(var)).close()
    steps = [("main", 0, True), ("main", 3, False), ("log", 6, True), ("main", 9, True)]
    for place, n, change in steps:
        runtime = open_runtime(var, **{"certarchive.audit_queue": place})
        if change:
            runtime.run(cases.record_case, UPSTREAM, sample_case(n))
        else:
            runtime.run(lambda ctx, n=n: ctx.audit("test.alone", f"case:alone-{n}"), SYSTEM)
        runtime.close()
    runtime = open_runtime(var)
    try:
        queued = runtime.run(queue_sizes, SYSTEM)
        assert queued["outbox"] == 6 and queued["log"] == 4
        audit_services.sequence_logs(runtime)
        objects = [e["object"] for e in runtime.run(log_entries, SYSTEM)]
        order = [o for o in objects if o.startswith("case:")]
        expected = []
        for _place, n, change in steps:
            expected += [f"case:{sample_case(n)['case_no']}"] * 2 if change else [f"case:alone-{n}"]
        assert [o for o in order if o in expected] == expected
        assert runtime.run(queue_sizes, SYSTEM)["log"] == 0
    finally:
        runtime.close()


@pytest.mark.parametrize("value", ["audit", "MAIN", "both"])
def test_an_unknown_queue_place_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"certarchive\.audit_queue"):
        load_settings(file_settings(tmp_path, **{"certarchive.audit_queue": value}))


def test_the_command_line_refuses_an_unknown_queue_place(cli_run: Any, ini: Path) -> None:
    raw = file_settings(ini.parent / "var", **{"certarchive.audit_queue": "nowhere"})
    write_ini(ini, raw)
    result = cli_run("check")
    assert result.exit_code == 2 and "certarchive.audit_queue" in result.output


def test_a_long_queue_keeps_its_inner_nodes_narrow() -> None:
    """Appending to a queue rewrites the last bucket's parent when the bucket splits: that
    node holds at most 16 children, however many entries wait (OOBTree's hold 250)."""
    queue = QueueTree()
    for n in range(5000):
        queue[f"{n:020d}-000000000000"] = b"{}"
    children, _first_bucket = queue.__getstate__()
    assert 2 <= (len(children) + 1) // 2 <= 16
    wide = OOBTree()
    wide.update(queue)
    assert (len(wide.__getstate__()[0]) + 1) // 2 > 16  # what the narrow class avoids
    assert list(queue.keys()) == list(wide.keys())
