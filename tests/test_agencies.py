"""Several counties in one registry (issue #7): each agency has its own settings, seal
and serial sequences, and staff and clients of one agency see nothing of another."""

from __future__ import annotations

import json
from typing import Any

import pytest

from certarchive.services import cases, certificates
from certarchive.services.errors import Invalid, NotFound
from certarchive.services.permissions import client_actor, staff_actor
from certarchive.validation.samples import sample_case

GUANGSHAN = (
    "guangshan",
    "--province", "豫",
    "--county", "光山县",
    "--county-code", "411522",
    "--agency-name", "光山县自然资源局",
    "--seal-name", "光山县自然资源局不动产登记专用章",
    "--seal-number", "4115220000001",
)  # fmt: skip
PAYMENT = {"receipt_no": "R", "amount": "80", "paid_at": "2026-11-20T10:00:00+08:00"}


def guangshan_case(n: int) -> dict[str, Any]:
    document = sample_case(n)
    document["case_no"] = document["case_no"].replace("411526", "411522")
    return document


@pytest.fixture
def two_agencies(cli_run: Any) -> Any:
    assert cli_run("init").exit_code == 0
    added = cli_run("agency", "add", *GUANGSHAN)
    assert added.exit_code == 0, added.output
    return cli_run


def test_each_agency_has_its_own_seal(two_agencies: Any) -> None:
    listed = json.loads(two_agencies("agency", "list", "--json").output)
    assert [a["name"] for a in listed] == ["guangshan", "huangchuan"]
    seals = [
        json.loads(two_agencies("seal", "show", "--agency", a["name"], "--json").output)
        for a in listed
    ]
    assert seals[0]["name"] == "光山县自然资源局不动产登记专用章"
    assert seals[0]["public_key_pem"] != seals[1]["public_key_pem"]


def test_bad_or_duplicate_agencies_are_refused(two_agencies: Any) -> None:
    assert two_agencies("agency", "add", *GUANGSHAN).exit_code == 1
    clash = list(GUANGSHAN)
    clash[0] = "other"
    result = two_agencies("agency", "add", *clash)
    assert result.exit_code == 1 and "county code" in result.output
    bad = list(GUANGSHAN)
    bad[0], bad[6] = "third", "4115"
    result = two_agencies("agency", "add", *bad)
    assert result.exit_code == 2 and "county_code" in result.output


def test_serials_run_per_agency_and_cases_route_by_county(
    two_agencies: Any, runtime_of: Any
) -> None:
    runtime = runtime_of()
    upstream = client_actor("province-upstream", ("cases:write",))
    for document in (sample_case(0), guangshan_case(3), guangshan_case(6)):
        runtime.run(cases.record_case, upstream, document)
        runtime.run(cases.confirm_payment, upstream, document["case_no"], PAYMENT)
    serials = runtime.run(
        lambda ctx: sorted(s for a in ctx.visible_agencies() for s in a.catalog.serial), upstream
    )
    assert serials == [
        "豫(2026)光山县不动产权第0000001号",
        "豫(2026)光山县不动产权第0000002号",
        "豫(2026)潢川县不动产权第0000001号",
    ]
    runtime.close()


def test_staff_and_clients_see_only_their_agency(two_agencies: Any, runtime_of: Any) -> None:
    runtime = runtime_of()
    upstream = client_actor("province-upstream", ("cases:write",))
    runtime.run(cases.record_case, upstream, guangshan_case(0))
    paid = runtime.run(cases.confirm_payment, upstream, guangshan_case(0)["case_no"], PAYMENT)
    serial = paid["certificates"][0]["serial"]
    local = staff_actor("li", "registrar", "guangshan")
    other = staff_actor("wang", "registrar", "huangchuan")

    def look(ctx: Any) -> str:
        return certificates.metadata(ctx, certificates.get_certificate(ctx, serial))["serial"]

    assert runtime.run(look, local) == serial
    with pytest.raises(NotFound):
        runtime.run(look, other)
    with pytest.raises(NotFound):
        runtime.run(cases.get_case, other, guangshan_case(0)["case_no"])
    huangchuan_upstream = client_actor("hc-upstream", ("cases:write",), "huangchuan")
    with pytest.raises(Invalid) as refused:
        runtime.run(cases.record_case, huangchuan_upstream, guangshan_case(9))
    assert "case_no" in refused.value.fields
    runtime.close()
