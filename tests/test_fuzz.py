"""Fuzzing the parsers of outside input (#13): the file verifier and the case-document
validator, with Hypothesis generating files and documents.

``make test`` runs a short round (``FUZZ_EXAMPLES``, default 60 a target); ``make fuzz``
a long one.  Inputs that once made a target fail are kept in ``tests/data/fuzz/`` and
replayed here every time.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.verify import verify_pdf
from certarchive.validation.case import CaseInvalid, validate_case
from certarchive.validation.samples import sample_case
from tests.test_documents_fixtures import revoked, signed, trust

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
CORPUS = Path(__file__).parent / "data" / "fuzz"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILES = st.sampled_from([("signed", KIND_RIGHT), ("signed", KIND_PROOF), ("revoked", KIND_RIGHT)])


def _file(which: tuple[str, str]) -> bytes:
    return (signed if which[0] == "signed" else revoked)(which[1])


def _judged(pdf: bytes) -> bool:
    """Verify, and check the report is consistent; the verdict."""
    report = verify_pdf(pdf, trust())
    assert report.valid == (not report.problems)
    return report.valid


@FUZZ
@given(FILES, st.data())
def test_a_changed_byte_in_what_a_signature_covers_is_never_valid(which, data) -> None:
    pdf = _file(which)
    report = verify_pdf(pdf, trust())
    _, a, b, c = report.signatures[-1].byte_range
    covered = data.draw(st.one_of(st.integers(0, a - 1), st.integers(b, b + c - 1)))
    flip = data.draw(st.integers(1, 255))
    changed = pdf[:covered] + bytes([pdf[covered] ^ flip]) + pdf[covered + 1 :]
    assert not _judged(changed)


_NUMBERS = re.compile(rb"\d+")


@FUZZ
@given(FILES, st.data())
def test_structural_mutations_give_a_report(which, data) -> None:
    """Spliced, cut, duplicated and renumbered files: a report, never an exception."""
    pdf = _file(which)
    kind = data.draw(st.sampled_from(["cut", "splice", "duplicate", "number", "insert"]))
    at = data.draw(st.integers(0, len(pdf) - 1))
    if kind == "cut":
        mutated = pdf[:at]
    elif kind == "splice":
        size = data.draw(st.integers(1, 4096))
        mutated = pdf[:at] + pdf[at + size :]
    elif kind == "duplicate":
        size = data.draw(st.integers(1, 4096))
        mutated = pdf[:at] + pdf[at : at + size] + pdf[at:]
    elif kind == "number":
        numbers = list(_NUMBERS.finditer(pdf))
        match = numbers[data.draw(st.integers(0, len(numbers) - 1))]
        value = str(data.draw(st.integers(0, 10**12))).encode()
        mutated = pdf[: match.start()] + value + pdf[match.end() :]
    else:
        mutated = pdf[:at] + data.draw(st.binary(min_size=1, max_size=512)) + pdf[at:]
    _judged(mutated)


@FUZZ
@given(st.binary(max_size=2048), st.integers(0, 3))
def test_generated_signature_dictionaries_give_a_report(contents: bytes, shape: int) -> None:
    """A minimal file whose one signature holds arbitrary (or CMS-looking) bytes."""
    body = contents if shape else b"\x30\x82" + len(contents).to_bytes(2, "big") + contents
    hex_digits = body.hex().encode()
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter "
    head += b"/adbe.pkcs7.detached /ByteRange [0 AAAAAAAAAA BBBBBBBBBB CCCCCCCCCC] /Contents <"
    tail = b"> >>\nendobj\n%%EOF\n"
    a = len(head) - 1
    b = a + len(hex_digits) + 2
    pdf = head + hex_digits + tail
    c = len(pdf) - b
    pdf = pdf.replace(b"AAAAAAAAAA", b"%010d" % a).replace(b"BBBBBBBBBB", b"%010d" % b)
    pdf = pdf.replace(b"CCCCCCCCCC", b"%010d" % (c if shape != 2 else c + 1))
    assert not _judged(pdf)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)


@FUZZ
@given(st.data())
def test_the_case_validator_refuses_in_words_and_nothing_else(data) -> None:
    """Sample cases with fields replaced by arbitrary JSON, and arbitrary JSON alone: the
    validator answers a CaseData or a CaseInvalid naming fields, never another exception."""
    if data.draw(st.booleans()):
        document = data.draw(_JSON)
    else:
        document = sample_case(data.draw(st.integers(0, 10_000)))
        target = document if data.draw(st.booleans()) else document["certificates"][0]
        key = data.draw(st.sampled_from(sorted(target)))
        target[key] = data.draw(_JSON)
    try:
        validate_case(document)
    except CaseInvalid as invalid:
        assert invalid.fields and all(isinstance(v, str) for v in invalid.fields.values())


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*")), ids=lambda p: p.name)
def test_kept_inputs_replay(path: Path) -> None:
    """Inputs that once failed a target: ``.pdf`` files go to the verifier, ``.json`` to the
    case validator."""
    if path.suffix == ".pdf":
        assert not _judged(path.read_bytes())
    else:
        try:
            validate_case(json.loads(path.read_text(encoding="utf-8")))
        except CaseInvalid as invalid:
            assert invalid.fields
