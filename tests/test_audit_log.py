"""The tamper-evident audit log (H-5.2.4) and sharing log (H-5.2.5): Merkle tree over SM3,
signed checkpoints, inclusion and consistency proofs, and tampering on the real files."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from ZODB import DB
from ZODB.FileStorage import FileStorage

from certarchive.audit import merkle, verify
from certarchive.audit.entry import canonical
from certarchive.audit.log import get_log, leaf_data
from certarchive.audit.queue import entry_dict
from certarchive.crypto.sm import sm3
from certarchive.services import audit as audit_services
from certarchive.services import cases
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case
from tests.conftest import UPSTREAM, log_entries
from tests.i18n_support import raises_matching


@pytest.fixture
def populated(cli_run: Any, tmp_path: Path) -> Path:
    """A registry with demo cases and a sequenced audit log; returns the saved checkpoint."""
    assert cli_run("init", "--demo", "3").exit_code == 0
    added = cli_run(
        "user", "add", "zhao", "--role", "auditor", "--password-stdin", input="s3cret-pass-1\n"
    )
    assert added.exit_code == 0, added.output
    result = cli_run("audit", "checkpoint")
    assert result.exit_code == 0
    saved = tmp_path / "checkpoint.json"
    saved.write_text(result.output, encoding="utf-8")
    return saved


def audit_db(tmp_path: Path) -> DB:
    return DB(FileStorage(str(tmp_path / "var" / "Audit.fs")))


def tamper(tmp_path: Path, change: Any) -> None:
    """Rewrite the audit database the way someone with file access and ZODB could."""
    db = audit_db(tmp_path)
    tm = transaction.TransactionManager()
    try:
        conn = db.open(transaction_manager=tm)
        with tm:
            change(conn.root()["log"])
    finally:
        db.close()


def test_a_fresh_log_verifies_against_its_checkpoint(cli_run: Any, populated: Path) -> None:
    result = cli_run("audit", "verify", "--checkpoint", str(populated), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["size"] > 10 and report["pending"] == 0
    assert report["root"] == json.loads(populated.read_text())["checkpoint"]["root"]


def _change_entry(log: Any) -> None:
    record = dict(log.entries[5])
    record["entry"] = canonical(dict(entry_dict(record["entry"]), actor="someone-else"))
    log.entries[5] = record


def _delete_entry(log: Any) -> None:
    del log.entries[4]


def _reorder_entries(log: Any) -> None:
    log.entries[3], log.entries[4] = log.entries[4], log.entries[3]


def _forge_checkpoint(log: Any) -> None:
    checkpoint = dict(log.checkpoints[log.checkpoints.maxKey()])
    checkpoint["root"] = "00" * 32
    log.checkpoints[log.checkpoints.maxKey()] = checkpoint


def _swap_checkpoints(log: Any) -> None:
    log.checkpoints[1], log.checkpoints[2] = log.checkpoints[2], log.checkpoints[1]


def _recompute_leaf_after_change(log: Any) -> None:
    """A careful attacker also fixes the stored leaf hash; the checkpoints still catch it."""
    record = dict(log.entries[2])
    record["entry"] = canonical(dict(entry_dict(record["entry"]), result="refused"))
    record["leaf"] = merkle.leaf_hash(sm3, leaf_data(2, record["integrated_at"], record["entry"]))
    log.entries[2] = record


def _forge_node(log: Any) -> None:
    """Proofs are served from kept subtree hashes: a forged one is named."""
    log.nodes[log.nodes.minKey()] = sm3(b"forged")


def _drop_node(log: Any) -> None:
    del log.nodes[log.nodes.maxKey()]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_forge_node, "the kept Merkle node (4, 0) does not match"),
        (_drop_node, "does not match the entries"),
        (_change_entry, "entry 5 was altered"),
        (_delete_entry, "entry 4 is missing"),
        (_reorder_entries, "entry 3 was altered"),
        (_forge_checkpoint, "signature does not verify"),
        (_swap_checkpoints, "out of order"),
        (_recompute_leaf_after_change, "root does not match"),
    ],
)
@pytest.mark.parametrize("shed_every", [20_000, 1])
def test_tampering_is_found_and_named(
    cli_run: Any,
    populated: Path,
    tmp_path: Path,
    change: Any,
    named: str,
    shed_every: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Also when the replay lets go of what it read after every entry (SHED_EVERY: a log
    of millions is replayed in bounded memory)."""
    monkeypatch.setattr(verify, "SHED_EVERY", shed_every)
    tamper(tmp_path, change)
    result = cli_run("audit", "verify")
    assert result.exit_code == 1
    assert named in result.output


def test_an_external_checkpoint_of_a_rewritten_log_fails(
    cli_run: Any, populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The auditor's saved checkpoint is checked against the root the one replay makes at
    its size: a log whose entries before it were rewritten (leaf hashes, nodes and
    checkpoints all made anew would still not match the saved root) fails."""
    monkeypatch.setattr(verify, "SHED_EVERY", 1)
    tamper(tmp_path, _recompute_leaf_after_change)
    result = cli_run("audit", "verify", "--checkpoint", str(populated))
    assert result.exit_code == 1
    assert "the log was rewritten before the external checkpoint" in result.output


def test_a_log_from_before_kept_nodes_verifies_and_proves(
    cli_run: Any, populated: Path, tmp_path: Path
) -> None:
    """A log restored from a backup made before subtree hashes were kept has none: it still
    verifies (a restore re-checks the logs so), proves from its leaves, and keeps none
    until the evolve step fills them all."""
    from certarchive.audit.log import AppendOnlyLog

    tamper(tmp_path, lambda log: delattr(log, "nodes"))
    result = cli_run("audit", "verify", "--checkpoint", str(populated))
    assert result.exit_code == 0, result.output

    def prove_and_rebuild(log: AppendOnlyLog) -> None:
        size = log.size
        from_leaves = log.inclusion_proof(size - 1, size)
        log.keep_nodes([(4, 0, sm3(b"not kept"))])
        assert log.nodes is None
        assert log.rebuild_nodes() >= 1
        assert log.inclusion_proof(size - 1, size) == from_leaves

    tamper(tmp_path, prove_and_rebuild)
    assert cli_run("audit", "verify").exit_code == 0


def test_a_log_that_kept_entries_as_dicts_still_verifies_and_reads(
    cli_run: Any, populated: Path, tmp_path: Path
) -> None:
    """Logs written before entries were kept as canonical JSON hold dicts: they verify
    against a checkpoint taken then, read the same, and grow with the new form."""
    exported = tmp_path / "before.jsonl"
    assert cli_run("audit", "export", "--out", str(exported)).exit_code == 0

    def as_dicts(log: Any) -> None:
        for seq in range(log.size):
            record = dict(log.entries[seq])
            record["entry"] = entry_dict(record["entry"])
            log.entries[seq] = record

    tamper(tmp_path, as_dicts)
    assert cli_run("audit", "verify", "--checkpoint", str(populated)).exit_code == 0
    again = tmp_path / "after.jsonl"
    assert cli_run("audit", "export", "--out", str(again)).exit_code == 0
    assert again.read_text() == exported.read_text()
    added = cli_run(
        "user", "add", "qian", "--role", "auditor", "--password-stdin", input="s3cret-pass-2\n"
    )
    assert added.exit_code == 0, added.output
    assert cli_run("audit", "checkpoint").exit_code == 0
    assert cli_run("audit", "verify", "--checkpoint", str(populated)).exit_code == 0
    forms = []
    tamper(tmp_path, lambda log: forms.extend(type(r["entry"]) for r in log.entries.values()))
    assert forms[0] is dict and forms[-1] is bytes  # one log, both forms


def test_truncating_the_file_is_caught_by_the_saved_checkpoint(
    cli_run: Any, populated: Path, tmp_path: Path
) -> None:
    """Cut Audit.fs back to before the last transaction that sequenced entries."""
    path = tmp_path / "var" / "Audit.fs"
    storage = FileStorage(str(path), read_only=True)
    positions = [txn._tpos for txn in storage.iterator()]
    storage.close()
    with path.open("r+b") as fs:
        fs.truncate(positions[-1])
    for leftover in path.parent.glob("Audit.fs.*"):
        leftover.unlink()
    assert cli_run("audit", "verify").exit_code == 0  # internally consistent again …
    result = cli_run("audit", "verify", "--checkpoint", str(populated))
    assert result.exit_code == 1  # … but shorter than what the auditor saw
    assert "external checkpoint" in result.output


def test_a_flipped_byte_in_the_file_is_caught(
    cli_run: Any, populated: Path, tmp_path: Path
) -> None:
    path = tmp_path / "var" / "Audit.fs"
    data = path.read_bytes()
    needle = b"demo-upstream"
    at = data.rfind(needle)  # the newest revision of the entries bucket: the current one
    assert at > 0
    path.write_bytes(data[:at] + b"demo-upstreaM" + data[at + len(needle) :])
    result = cli_run("audit", "verify")
    assert result.exit_code == 1
    assert "was altered" in result.output


def test_inclusion_and_consistency_proofs(run: Any) -> None:
    for n in range(3):
        run(cases.record_case, sample_case(n))
    first = run(audit_services.integrate_logs, actor=SYSTEM)["audit"]
    run(cases.record_case, sample_case(3))
    second = run(audit_services.integrate_logs, actor=SYSTEM)["audit"]

    def prove(ctx: Any) -> None:
        log = get_log(ctx.conn, "audit")
        size1, size2 = first["size"], second["size"]
        root1, root2 = bytes.fromhex(first["root"]), bytes.fromhex(second["root"])
        for seq in (0, size1 - 1, size2 - 1):
            leaf = log.entries[seq]["leaf"]
            proof = log.inclusion_proof(seq, size2)
            assert merkle.verify_inclusion(sm3, seq, size2, leaf, proof, root2)
            assert not merkle.verify_inclusion(sm3, seq, size2, sm3(b"x"), proof, root2)
        proof = log.consistency_proof(size1, size2)
        assert merkle.verify_consistency(sm3, size1, size2, root1, root2, proof)
        assert not merkle.verify_consistency(sm3, size1, size2, root2, root2, proof)
        # served from the kept subtree hashes, the same proofs as from the leaves alone
        assert len(log.nodes) >= size2 // 16 >= 1
        from_leaves = merkle.subtree_roots(sm3, log.leaf_hashes)
        for seq in range(size2):
            assert log.inclusion_proof(seq, size2) == merkle.inclusion_proof(
                from_leaves, seq, size2
            )
        assert proof == merkle.consistency_proof(from_leaves, size1, size2)

    run(prove, actor=SYSTEM)


def test_concurrent_appends_do_not_conflict_and_lose_nothing(runtime: Any) -> None:
    """Many writers append at once; every entry is sequenced exactly once."""

    def write(n: int) -> None:
        for i in range(10):
            runtime.run(lambda ctx, i=i: ctx.audit("test.append", f"thread:{n}:{i}"), SYSTEM)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runtime.run(audit_services.integrate_logs, SYSTEM)
    objects = [e["object"] for e in runtime.run(log_entries, SYSTEM)]
    appended = sorted(o for o in objects if o.startswith("thread:"))
    assert appended == sorted(f"thread:{n}:{i}" for n in range(4) for i in range(10))
    report = runtime.run(audit_services.verify, SYSTEM, "audit")
    assert report.ok and report.pending == 0


def test_sharing_log_is_separate_with_its_own_key(run: Any) -> None:
    run(lambda ctx: ctx.audit("certificate.read", "certificate:x", log="sharing"), actor=SYSTEM)
    checkpoints = run(audit_services.integrate_logs, actor=SYSTEM)
    sharing = run(audit_services.checkpoint_document, "sharing", actor=SYSTEM)
    audit = run(audit_services.checkpoint_document, "audit", actor=SYSTEM)
    assert checkpoints["sharing"]["size"] == 1
    assert sharing["public_key_pem"] != audit["public_key_pem"]
    objects = [e["object"] for e in run(log_entries)]
    assert "certificate:x" not in objects


def test_a_bad_checkpoint_file_is_refused(cli_run: Any, populated: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}", encoding="utf-8")
    result = cli_run("audit", "verify", "--checkpoint", str(bogus))
    assert result.exit_code == 1
    assert "checkpoint" in result.output


def test_every_change_has_its_entry_in_the_same_transaction(run: Any) -> None:
    """A refused change leaves neither the change nor an entry (H-5.2.4)."""
    before = run(log_entries)
    document = sample_case(0)
    document["delivery"] = "nonsense"
    with raises_matching(Exception, "invalid"):
        run(cases.record_case, document, actor=UPSTREAM)
    assert run(log_entries) == before
    run(cases.record_case, sample_case(0), actor=UPSTREAM)
    assert len(run(log_entries)) == len(before) + 3  # the search above could find entries


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    entry=st.dictionaries(st.text(), json_values, max_size=12),
    seq=st.integers(0, 2**31 - 1),
    integrated_at=st.text(),
)
def test_a_leaf_spliced_from_kept_bytes_is_the_defined_leaf(
    entry: dict[str, Any], seq: int, integrated_at: str
) -> None:
    """Entries are kept as canonical JSON and spliced into the leaf; the bytes are those
    of canonical({"seq", "integrated_at", "entry"}) over the entry as a dict, the leaf an
    auditor recomputes from what the API returns (H-5.2.4)."""
    defined = canonical({"seq": seq, "integrated_at": integrated_at, "entry": entry})
    assert leaf_data(seq, integrated_at, canonical(entry)) == defined
    assert leaf_data(seq, integrated_at, entry) == defined
    assert entry_dict(canonical(entry)) == entry
