"""Creating a draft certificate inside a case: recorded cases and re-issues both do it."""

from __future__ import annotations

import secrets
from typing import Any

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.services.certdata import append_version
from certarchive.services.context import Context
from certarchive.services.search_index import index_number


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
        secrets.token_hex(8), agency.name, data["kind"], case.case_no, data["unit_number"]
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
