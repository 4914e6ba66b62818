"""The auditors' door to the logs (H-5.2.4, H-5.2.5): ``/api/v1/audit/{log}/…``.

Until now only the command line read the logs; an auditor (staff role ``auditor``) or a key
with the scope ``audit:read`` reads them here: pages of entries, the newest signed
checkpoint with the log's public key, and RFC 6962 inclusion and consistency proofs to
check against checkpoints kept outside.  Query parameters go to the services as text; the
services validate them (422 naming each bad one), mask personal data for callers who may
not read it (H-5.2.3), and audit the reading of entries.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from certarchive.services import audit as audit_services


def _log(request: Request) -> str:
    return request.matchdict["log"]


@view_config(
    route_name="api.audit.entries", request_method="GET", renderer="json", permission="audit.read"
)
def entries(request: Request) -> dict[str, Any]:
    params = request.GET
    return audit_services.read_entries(
        request.ctx, _log(request), params.get("start", 0), params.get("limit", 100)
    )


@view_config(
    route_name="api.audit.checkpoint",
    request_method="GET",
    renderer="json",
    permission="audit.read",
)
def checkpoint(request: Request) -> dict[str, Any]:
    """The document ``certarchive audit checkpoint`` prints, as the server signed it last
    (the server sequences pending entries every few seconds; a GET does not)."""
    return audit_services.checkpoint_document(request.ctx, _log(request))


@view_config(
    route_name="api.audit.inclusion", request_method="GET", renderer="json", permission="audit.read"
)
def inclusion(request: Request) -> dict[str, Any]:
    params = request.GET
    return audit_services.inclusion_proof(
        request.ctx, _log(request), params.get("seq"), params.get("size")
    )


@view_config(
    route_name="api.audit.consistency",
    request_method="GET",
    renderer="json",
    permission="audit.read",
)
def consistency(request: Request) -> dict[str, Any]:
    params = request.GET
    return audit_services.consistency_proof(
        request.ctx, _log(request), params.get("first"), params.get("second")
    )
