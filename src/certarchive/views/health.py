"""``GET /healthz``: the databases answer (a load balancer's probe)."""

from __future__ import annotations

from pyramid.request import Request
from pyramid.view import view_config

from certarchive.content.registry import RegistryMissing, get_registry


@view_config(route_name="healthz", renderer="json", request_method="GET")
def healthz(request: Request) -> dict[str, str]:
    try:
        get_registry(request.conn)
    except RegistryMissing:
        request.response.status = 503
        return {"status": "uninitialised"}
    return {"status": "ok"}
