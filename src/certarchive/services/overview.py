"""The staff's overview: counts by state, the filing queue, open correction requests
(search and lists are :mod:`.search`)."""

from __future__ import annotations

from typing import Any

from certarchive.services.cases import filing_queue
from certarchive.services.context import Context
from certarchive.services.corrections import list_requests
from certarchive.services.search import rolled_back_drafts, today
from certarchive.workflow.definitions import CASE, CERTIFICATE


def dashboard(ctx: Context) -> dict[str, Any]:
    """Counts by state over the agencies the actor may see (with the drafts waiting after
    a rollback and the certificates issued today), the filing queue, open correction
    requests with their due time."""
    ctx.require("case.read")
    agencies = ctx.visible_agencies()
    certificates = dict.fromkeys(CERTIFICATE.states, 0)
    cases = dict.fromkeys(CASE.states, 0)
    rolled_back = issued_today = 0
    day = today(ctx).isoformat()
    for agency in agencies:
        catalog = agency.catalog
        rolled_back += len(rolled_back_drafts(agency))
        issued_today += len(catalog.issue_date.get(day))
        for state, count in agency.catalog.state_counts().items():
            certificates[state] = certificates.get(state, 0) + count
        for state in CASE.states:
            cases[state] += len(agency.catalog.case_state.get(state))
    return {
        "agency": "、".join(agency.settings["agency_name"] for agency in agencies),
        "certificates": certificates,
        "cases": cases,
        "rolled_back": rolled_back,
        "issued_today": issued_today,
        "today": day,
        "filing_queue": filing_queue(ctx),
        "corrections": list_requests(ctx, "open"),
    }
