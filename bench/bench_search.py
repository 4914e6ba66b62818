"""Search and lists on a large registry (issue #17): p50/p99 of each kind of search.

    .venv/bin/python bench/bench_search.py --certificates 100000 --var var/bench/search-100k

bench/generate.py builds registries through the whole issuing path at ~30 certificates a
second (rendering and signing each PDF), so 100,000 would take about an hour.  What a
search reads is the agency's indexes and the certificates' plain attributes, so this
script builds those synthetically instead: real ``Certificate`` and ``CaseFile`` objects
(without versions or files) for ``sample_case`` documents, filed in the real catalog by
the same index functions the services call (``search_index.reindex`` and
``index_number``, the state, kind, serial, issue-date and case-state indexes), in one
FileStorage.  The searches then run exactly as a page's request does: ``search.search``
in ``Runtime.run`` (one transaction, with its audit entry for the personal modes), as a
registrar, over a cold process (first pass) and warm.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import median_ms, open_registry, percentile_ms, timed

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.services import search
from certarchive.services.issuance import CHINA
from certarchive.services.permissions import SYSTEM, staff_actor
from certarchive.services.runtime import Runtime
from certarchive.services.search_index import address_words, index_number, reindex
from certarchive.validation.samples import sample_case

REGISTRAR = staff_actor("bench-registrar", "registrar")
BATCH = 5000
STATES = ("issued",) * 3 + ("downloaded",) * 4 + ("archived",) * 2 + ("revoked",)
FIRST_DAY = datetime(2026, 1, 1, 9, 0, tzinfo=CHINA)


def build(ctx: Any, numbers: range) -> int:
    agency = ctx.agency()
    catalog = agency.catalog
    made = 0
    for n in numbers:
        document = sample_case(n)
        if document["case_no"] in agency.cases:
            continue
        case = CaseFile(agency.name, document["case_no"], "first", FIRST_DAY, document["delivery"])
        case.state = "filed" if n % 5 == 0 else "certified"
        agency.cases.add(case.case_no, case)
        catalog.case_state.add(case.state, case.case_no)
        for index, data in enumerate(document["certificates"]):
            cert = Certificate(
                f"{n:08x}{index:02x}bench",
                agency.name,
                data["kind"],
                case.case_no,
                data["unit_number"],
            )
            title = "不动产权" if cert.kind == "right" else "不动产证明"
            cert.serial = f"豫(2026)潢川县{title}第{n * 2 + index:07d}号"
            cert.issued_at = FIRST_DAY + timedelta(minutes=(n * 5227) % (365 * 24 * 60))
            agency.certificates.add(cert.id, cert)
            case.certificate_ids.append(cert.id)
            catalog.serial[cert.serial] = cert.id
            catalog.unit_number.add(cert.unit_number, cert.id)
            catalog.kind.add(cert.kind, cert.id)
            catalog.move_state(cert.id, None, STATES[(n + index) % len(STATES)])
            cert.state = STATES[(n + index) % len(STATES)]
            day = cert.issued_at.astimezone(CHINA).date().isoformat()
            catalog.issue_date.add(day, cert.id)
            reindex(catalog, ctx.keyring, cert.id, {}, data)
            index_number(catalog, cert.id, cert.serial)
            index_number(catalog, cert.id, case.case_no)
            made += 1
    return made


def count(ctx: Any) -> int:
    return len(ctx.agency().certificates)


def ensure(runtime: Runtime, target: int) -> int:
    n = 0
    have = runtime.run(count, SYSTEM)
    while have < target:
        have += runtime.run(build, SYSTEM, range(n, n + BATCH))
        n += BATCH
        print(f"  {have} certificates", file=sys.stderr)
    return have


def queries(cases: int, rng: random.Random) -> dict[str, list[dict[str, str]]]:
    picks = [sample_case(rng.randrange(cases)) for _ in range(200)]
    certs = [p["certificates"][0] for p in picks]
    return {
        "full name (keyed index)": [{"q": c["holders"][0]["name"], "by": "name"} for c in certs],
        "two address words (keyed index)": [
            {"q": " ".join(address_words(c["location"])[2:4]), "by": "address"} for c in certs
        ],
        "name or address (auto)": [{"q": c["holders"][-1]["name"]} for c in certs],
        "ID number (keyed index)": [{"q": c["holders"][0]["id_number"]} for c in certs],
        "part of a case number (number index)": [{"q": p["case_no"][-6:]} for p in picks],
        "5 characters of a serial, 第00012 (number index)": [
            {"q": f"第{rng.randrange(cases):07d}"[:6]} for _p in picks
        ],
        "last 4 digits of a serial (number index)": [
            {"q": f"{rng.randrange(cases * 2):07d}"[-4:]} for _p in picks
        ],
        "list: state issued, page 1": [{"state": "issued"}] * 50,
        "list: state downloaded, page 40": [{"state": "downloaded", "page": "40"}] * 50,
        "list: one month issued, kind proof": [
            {"date_from": "2026-03-01", "date_to": "2026-03-31", "kind": "proof"}
        ]
        * 50,
    }


def measure(runtime: Runtime, params_list: list[dict[str, str]]) -> tuple[list[float], int]:
    params_iter = iter(params_list)
    totals = []

    def one() -> None:
        answer = runtime.run(search.search, REGISTRAR, next(params_iter))
        totals.append(answer["total"])

    times = timed(one, len(params_list))
    return times, round(sum(totals) / len(totals))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--var", type=Path, default=Path("var/bench/search"))
    args = parser.parse_args()
    args.var.mkdir(parents=True, exist_ok=True)
    runtime = open_registry(args.var)
    have = ensure(runtime, args.certificates)
    cases = runtime.run(lambda ctx: len(ctx.agency().cases), SYSTEM)
    runtime.close()
    print(f"registry: {have} certificates in {cases} cases ({args.var})")
    print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    rng = random.Random(17)
    for label, params_list in queries(cases, rng).items():
        runtime = open_registry(args.var)  # a cold process for each kind of search
        cold, hits = measure(runtime, params_list[:1])
        warm, hits = measure(runtime, params_list)
        runtime.close()
        print(
            f"{label:38s} hits ~{hits:6d}  first {cold[0] * 1000:7.1f} ms  "
            f"p50 {median_ms(warm):6.1f} ms  p99 {percentile_ms(warm, 0.99):6.1f} ms"
        )
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
