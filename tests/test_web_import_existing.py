"""Certificates imported ``--files on-demand`` over HTTP: the verification page, an
institution's read through the API and an uploaded file each find (or make) the one
file, sealed and signed, and the page and the API show its digest."""

from __future__ import annotations

from urllib.parse import quote

from certarchive.services.certificates import find_certificate
from certarchive.services.existing import CREATED, Line, import_lines
from certarchive.services.permissions import SYSTEM
from certarchive.validation.existing import validate_existing_case
from certarchive.validation.samples import sample_existing_case
from tests.conftest import UPSTREAM
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401


def _import(site: Site, n: int) -> Line:
    line = Line.of(1, validate_existing_case(sample_existing_case(n)))
    outcome = site.runtime.run(import_lines, UPSTREAM, [line], True)
    assert outcome == {1: CREATED}
    return line


def _files(site: Site, serial: str) -> int:
    return site.runtime.run(lambda ctx: len(find_certificate(ctx, serial).files), SYSTEM)


def test_the_first_request_over_http_makes_the_file_once(site: Site) -> None:
    line = _import(site, 90_001)  # a right and a mortgage proof
    (right, _), (proof, _) = line.papers
    assert _files(site, right) == 0 and _files(site, proof) == 0
    page = site.web().get(f"/v/{line.tokens[0]}.json").json
    assert page["serial"] == right and page["status"] == "valid" and page["sm3"]
    assert _files(site, right) == 1
    api = f"/api/v1/certificates/{quote(proof)}/pdf"
    pdf = site.web().get(api, headers=site.headers("bank")).body
    assert pdf.startswith(b"%PDF-") and _files(site, proof) == 1
    assert site.web().get(api, headers=site.headers("bank")).body == pdf  # made once
    result = site.web().post(
        "/verify", upload_files=[("file", "c.pdf", pdf)], headers={"Accept": "application/json"}
    ).json
    assert result["result"] == "valid" and result["certificate"]["serial"] == proof
    assert _files(site, proof) == 1
