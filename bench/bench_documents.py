"""Certificate files, per process, medians in one run (issue #3).

    .venv/bin/python bench/bench_documents.py

render, sign, whole issuance (confirming a recorded case's payment through the service
layer on a FileStorage registry: render + sign + digest + encrypt + index + audit +
commit), recording a case (the step before, reported apart), revocation stamp and
verification of a ~100 KB file.  Targets: issuance ≥ 60 certificates/s per process; verify < 15 ms.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, median_ms, open_registry, timed

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.documents.render import render_certificate
from certarchive.documents.signature import sign_pdf
from certarchive.documents.verify import verify_pdf
from certarchive.documents.watermark import stamp_revoked
from certarchive.services import cases
from certarchive.services.issuance import certificate_document
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case

REPEAT = 60


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = open_registry(Path(folder))
        numbers = iter(range(0, 3 * 10_000, 3))  # one right certificate per case

        documents = [sample_case(next(numbers)) for _ in range(REPEAT + 1)]
        recorded = iter(documents)
        paid = iter(documents)

        def record_one() -> None:
            runtime.run(cases.record_case, UPSTREAM, next(recorded))

        def issue_one() -> None:
            runtime.run(cases.confirm_payment, UPSTREAM, next(paid)["case_no"], PAYMENT)

        record_one()
        issue_one()  # warm-up: fonts, seal image, tables
        record = timed(record_one, REPEAT)
        issue = timed(issue_one, REPEAT)
        doc = runtime.run(
            lambda ctx: certificate_document(ctx, next(iter(ctx.agency().certificates.values()))),
            SYSTEM,
        )
        runtime.close()
    key = SM2PrivateKey.generate()
    pdf = render_certificate(doc)
    signed = sign_pdf(pdf, key, doc.agency.seal_name, "签发")
    revoked = stamp_revoked(signed, key, date(2026, 11, 21), "转移登记", doc.agency.seal_name)
    public = key.public_key
    verify_pdf(revoked, public)  # builds the key's table, as a server does after one use
    rows = [
        ("render", timed(lambda: render_certificate(doc), REPEAT)),
        ("sign", timed(lambda: sign_pdf(pdf, key, doc.agency.seal_name, "签发"), REPEAT)),
        ("issue: pay → render, sign, SM3, SM4, commit", issue),
        ("record the case beforehand (not issuance)", record),
        (
            "revocation stamp (+ second signature)",
            timed(
                lambda: stamp_revoked(
                    signed, key, date(2026, 11, 21), "转移登记", doc.agency.seal_name
                ),
                REPEAT,
            ),
        ),
        (
            f"verify, issued file {len(signed) // 1024} KB",
            timed(lambda: verify_pdf(signed, public), REPEAT),
        ),
        (
            f"verify, revoked file {len(revoked) // 1024} KB",
            timed(lambda: verify_pdf(revoked, public), REPEAT),
        ),
    ]
    print(f"{'operation':48} {'median ms':>10} {'per second':>11}")
    for name, times in rows:
        print(f"{name:48} {median_ms(times):10.1f} {1000 / median_ms(times):11.1f}")


if __name__ == "__main__":
    main()
