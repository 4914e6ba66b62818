"""H-4.2 and #13: a case revokes only certificates of its own agency and unit.  The
upstream key here is province-wide (not limited to an agency), the case that matters."""

from __future__ import annotations

from urllib.parse import quote

from certarchive.config import agency_config
from certarchive.services.setup import add_agency
from certarchive.validation.samples import sample_case
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401


def state_of(site: Site, serial: str) -> str:
    url = f"/api/v1/certificates/{quote(serial)}"
    return site.web().get(url, headers=site.headers("manager")).json["state"]


def test_a_case_cannot_revoke_another_countys_or_units_certificate(site: Site) -> None:
    site.run(
        add_agency,
        agency_config(
            {
                "certarchive.agency.name": "xinyang",
                "certarchive.agency.county": "浉河区",
                "certarchive.agency.county_code": "411502",
            }
        ),
    )
    other_county = sample_case(80001)
    other_county["case_no"] = other_county["case_no"].replace("-411526-", "-411502-")
    site.record(other_county)
    foreign = site.pay(other_county)["certificates"][0]["serial"]
    own_doc, own_paid = site.issued()
    own = own_paid["certificates"][0]["serial"]
    _other_unit_doc, other_unit_paid = site.issued()
    other_unit = other_unit_paid["certificates"][0]["serial"]

    transfer = site.document(registration_type="transfer", replaces=[foreign, other_unit, own])
    transfer["certificates"][0]["unit_number"] = own_doc["certificates"][0]["unit_number"]
    before = site.runtime.db.lastTransaction()
    english = {**site.headers("upstream"), "Accept-Language": "en"}
    refused = site.web().post_json("/api/v1/cases", transfer, headers=english, status=422)
    assert refused.json["error"] == "invalid"
    assert set(refused.json["fields"]) == {"replaces[0]", "replaces[1]"}
    assert "another agency" in refused.json["fields"]["replaces[0]"]
    assert "another real-estate unit" in refused.json["fields"]["replaces[1]"]
    assert site.runtime.db.lastTransaction() == before
    assert {state_of(site, s) for s in (foreign, other_unit, own)} == {"issued"}

    cancellation = site.document(registration_type="cancellation", replaces=[foreign])
    del cancellation["certificates"]
    refused = site.web().post_json(
        "/api/v1/cases", cancellation, headers=site.headers("upstream"), status=422
    )
    assert set(refused.json["fields"]) == {"replaces[0]"}
    assert state_of(site, foreign) == "issued"

    transfer["replaces"] = [own]
    assert site.record(transfer).status_int == 201
    assert state_of(site, own) == "revoked"
