"""Certificate files, per process, medians in one run (issues #3, #12).

    .venv/bin/python bench/bench_documents.py

render, sign, whole issuance (confirming a recorded case's payment through the service
layer on a FileStorage registry: render + sign + digest + encrypt + index + audit +
commit, for both formats, PDF and OFD, as ``certarchive.formats`` defaults to), recording
a case (the step before, reported apart), revocation stamp and verification of a ~100 KB
file; and the OFD side (issue #15): writing the package, sealing it (GB/T 38540
SES_Signature), the revocation watermark and verification.  Signing and verification
run side by side in the standard format (CMS SignedData with the seal's chain) and the
earlier one (a bare SM2 signature, as files issued before #12 carry).  Targets: issuance
≥ 60 certificates/s per process (PDF alone), ≥ 45 /s issuing both formats; verify < 15 ms.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, median_ms, open_registry, timed
from tests.earlier_format import sign_earlier_format

from certarchive.documents.render import render_certificate
from certarchive.documents.signature import sign_pdf
from certarchive.documents.stampdict import Revocation
from certarchive.documents.verify import Trust, verify_pdf
from certarchive.documents.watermark import stamp_revoked
from certarchive.ofd.package import to_zip
from certarchive.ofd.revoke import revoke_package
from certarchive.ofd.sign import seal_package
from certarchive.ofd.verify import verify_ofd
from certarchive.ofd.writer import write_ofd
from certarchive.services import cases
from certarchive.services.issuance import certificate_document
from certarchive.services.ofd_files import ofd_seal
from certarchive.services.permissions import SYSTEM
from certarchive.services.seals import registry_trust, signer
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
        issue, issue_pdf = interleaved(issue_one, Path(folder) / "pdf-only")
        doc, seal, trust, sealing = runtime.run(
            lambda ctx: (
                certificate_document(ctx, next(iter(ctx.agency().certificates.values()))),
                signer(ctx, ctx.agency()),
                registry_trust(ctx),
                ofd_seal(ctx, ctx.agency()),
            ),
            SYSTEM,
        )
        runtime.close()
    earlier_trust = Trust(seal_keys=(seal.key.public_key,), check_chain=False)
    pdf = render_certificate(doc)
    signed = sign_pdf(pdf, seal, "签发")
    earlier = sign_earlier_format(pdf, seal.key, seal.name)
    revoked = stamp_revoked(signed, seal, date(2026, 11, 21), "转移登记")
    assert verify_pdf(revoked, trust).valid and verify_pdf(earlier, earlier_trust).valid
    rows = [
        ("render", timed(lambda: render_certificate(doc), REPEAT)),
        ("sign, standard (CMS + chain)", timed(lambda: sign_pdf(pdf, seal, "签发"), REPEAT)),
        (
            "sign, earlier format (bare SM2)",
            timed(lambda: sign_earlier_format(pdf, seal.key, seal.name), REPEAT),
        ),
        ("issue, both formats: pay → render, sign, SM3, SM4, commit", issue),
        ("record the case beforehand (not issuance)", record),
        (
            "revocation stamp (+ one signature a page)",
            timed(lambda: stamp_revoked(signed, seal, date(2026, 11, 21), "转移登记"), REPEAT),
        ),
        (
            f"verify, issued file {len(signed) // 1024} KB, standard",
            timed(lambda: verify_pdf(signed, trust), REPEAT),
        ),
        (
            f"verify, issued file {len(earlier) // 1024} KB, earlier format",
            timed(lambda: verify_pdf(earlier, earlier_trust), REPEAT),
        ),
        (
            f"verify, revoked file {len(revoked) // 1024} KB, standard",
            timed(lambda: verify_pdf(revoked, trust), REPEAT),
        ),
    ]
    rows.insert(4, ("issue, PDF only (certarchive.formats = pdf)", issue_pdf))
    rows += ofd_rows(doc, sealing, trust)
    print(f"{'operation':48} {'median ms':>10} {'per second':>11}")
    for name, times in rows:
        print(f"{name:48} {median_ms(times):10.1f} {1000 / median_ms(times):11.1f}")


def interleaved(issue_both: Callable[[], None], var: Path) -> tuple[list[float], list[float]]:
    """Issuing with both formats and with PDF alone (a second registry), alternating call
    by call so that both see the same load on a shared machine."""
    var.mkdir(parents=True, exist_ok=True)
    runtime = open_registry(var, **{"certarchive.formats": "pdf"})
    documents = iter([sample_case(3 * n) for n in range(REPEAT + 1)])

    def issue_pdf_one() -> None:
        doc = next(documents)
        runtime.run(cases.record_case, UPSTREAM, doc)
        started = time.perf_counter()
        runtime.run(cases.confirm_payment, UPSTREAM, doc["case_no"], PAYMENT)
        pdf_times.append(time.perf_counter() - started)

    pdf_times: list[float] = []
    both_times: list[float] = []
    issue_pdf_one()  # warm-up
    pdf_times.clear()
    for _ in range(REPEAT):
        both_times += timed(issue_both, 1)
        issue_pdf_one()
    runtime.close()
    return both_times, pdf_times


def ofd_rows(doc, sealing, trust) -> list:
    """The OFD side: write the package, seal it, stamp it revoked, verify both."""
    draft = write_ofd(doc)
    sealed = seal_package(draft.files, draft.stamps, sealing, doc.issued_at)
    revocation = Revocation(date(2026, 11, 21), "转移登记")
    revoked = revoke_package(sealed, sealing, revocation, doc.issued_at)
    assert verify_ofd(sealed, trust).valid and verify_ofd(revoked, trust).revoked
    return [
        ("OFD: write the package (layout, font subset, zip)", timed(
            lambda: to_zip(write_ofd(doc).files), REPEAT)),
        ("OFD: seal (SM3 references, SES_Signature, zip)", timed(
            lambda: seal_package(draft.files, draft.stamps, sealing, doc.issued_at), REPEAT)),
        ("OFD: revocation watermark + second signature", timed(
            lambda: revoke_package(sealed, sealing, revocation, doc.issued_at), REPEAT)),
        (f"OFD: verify, issued package {len(sealed) // 1024} KB",
         timed(lambda: verify_ofd(sealed, trust), REPEAT)),
        (f"OFD: verify, revoked package {len(revoked) // 1024} KB",
         timed(lambda: verify_ofd(revoked, trust), REPEAT)),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
