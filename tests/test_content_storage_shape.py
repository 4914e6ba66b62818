"""How content is laid out in the database for a registry of a million (issue #18):
certificate ids that grow with time, and record logs that store no tree while empty."""

from __future__ import annotations

import random
import time
from typing import Any

import transaction

from certarchive.content.catalog import SetIndex
from certarchive.content.records import RecordLog
from certarchive.services import cases
from certarchive.services.drafts import new_certificate_id
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case

PAYMENT = {"receipt_no": "R-1", "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}


def first_certificate(ctx: Any, case_no: str) -> str:
    return ctx.agency().cases[case_no].certificate_ids[0]


def test_certificate_ids_sort_in_the_order_they_were_made(run: Any) -> None:
    """Two cases recorded a few milliseconds apart: the later certificate's id sorts
    after the earlier's (16 hex digits, the first 12 the milliseconds)."""
    ids = []
    for n in (0, 3):
        document = sample_case(n)
        run(cases.record_case, document)
        run(cases.confirm_payment, document["case_no"], PAYMENT)
        ids.append(run(first_certificate, document["case_no"]))
        time.sleep(0.005)
    assert ids == sorted(ids) and ids[0] != ids[1]
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    made = int(ids[1][:12], 16) / 1000
    assert abs(made - time.time()) < 60


def test_ids_made_in_one_millisecond_are_distinct(runtime: Any) -> None:
    """The random part separates ids of one millisecond; an id already taken is never
    given again (the agency's folder is asked)."""

    def many(ctx: Any) -> list[str]:
        agency = ctx.agency()
        made = []
        for _ in range(3000):
            cert_id = new_certificate_id(agency)
            assert cert_id not in made
            made.append(cert_id)
            agency.certificates.add(cert_id, None)  # taken (the transaction is doomed)
        transaction.get().doom()  # nothing of this is kept
        return made

    made = runtime.run(many, SYSTEM)
    assert len(set(made)) == 3000
    assert len({m[:12] for m in made}) < 3000  # many shared a millisecond


def test_an_empty_record_log_holds_no_tree() -> None:
    log = RecordLog()
    assert log._records is None and len(log) == 0 and list(log) == [] and log.latest() is None
    try:
        log[1]
    except KeyError:
        pass
    else:
        raise AssertionError("an empty log has no record 1")
    assert log.append({"a": 1}) == 1 and log.append({"a": 2}) == 2
    assert [r["a"] for r in log] == [1, 2] and log[2] == {"a": 2, "number": 2}
    assert log.latest() == {"a": 2, "number": 2}


def test_a_sets_size_is_estimated_from_its_shape_within_a_factor_of_two() -> None:
    """The number search starts from its smallest set (issue #18): the estimate, read
    along one path of the tree, is within a factor of two of the true size, from an
    empty set to one of 200,000, filled in order and at random."""
    index = SetIndex()
    rng = random.Random(7)
    sizes = (1, 5, 31, 200, 5_000, 200_000)
    for size in sizes:
        ids = [f"{n:016x}" for n in range(size)]
        for key, order in ((f"ordered{size}", ids), (f"random{size}", rng.sample(ids, size))):
            for cert_id in order:
                index.add(key, cert_id)
    assert index.estimated_size("missing") == 0
    for size in sizes:
        for key in (f"ordered{size}", f"random{size}"):
            estimate = index.estimated_size(key)
            assert size / 2 <= estimate <= size * 2, (key, estimate)
