"""Creating a draft certificate inside a case: recorded cases and re-issues both do it."""

from __future__ import annotations

import secrets
import time
from typing import Any

from certarchive.content.agency import Agency
from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.services.certdata import append_version
from certarchive.services.context import Context
from certarchive.services.search_index import index_number


def new_certificate_id(agency: Agency) -> str:
    """16 hex digits, unused in ``agency``: the milliseconds since 1970 (12), then 4 random.

    Why in time order: a certificate's id is a key or a member in a dozen indexes (the
    certificates folder, the state, kind, date and number-piece sets).  Random ids sent
    every new certificate to a random bucket of each, so that a million certificates meant
    a dozen bucket reads and writes per certificate all over the database; ids that grow
    with time land in the same few buckets at the right-hand end, which a batch writes once
    and the cache keeps.  The random part separates certificates made in one millisecond.
    An id is no secret (the public token is): staff pages and keys are what guard it.
    """
    millis = time.time_ns() // 1_000_000
    while (cert_id := f"{millis:012x}{secrets.randbelow(1 << 16):04x}") in agency.certificates:
        pass
    return cert_id


def create_certificate(
    ctx: Context,
    case: CaseFile,
    data: dict[str, Any],
    comment: str,
    changed_fields: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Certificate:
    """A draft in ``case``; its first version lists every field as set, or for a re-issue
    ``changed_fields`` (the differences from the replaced certificate) with ``extra``
    naming that certificate and its version."""
    agency = ctx.agency(case.agency)
    cert = Certificate(
        new_certificate_id(agency), agency.name, data["kind"], case.case_no, data["unit_number"]
    )
    agency.certificates.add(cert.id, cert)
    case.certificate_ids.append(cert.id)
    agency.catalog.unit_number.add(cert.unit_number, cert.id)
    agency.catalog.kind.add(cert.kind, cert.id)
    index_number(agency.catalog, cert.id, case.case_no)
    agency.catalog.move_state(cert.id, None, cert.state)
    fields = sorted(data) if changed_fields is None else changed_fields
    version = append_version(ctx, cert, data, comment, fields, extra)
    ctx.audit("certificate.create", f"certificate:{cert.id}", None, version["digest"])
    return cert
