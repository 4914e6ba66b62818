"""/api/openapi.json matches the code both ways, and schemathesis finds no 5xx in it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from certarchive.content.principals import SCOPES
from certarchive.services.setup import add_client
from certarchive.views import ROUTES
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

DOCUMENTED = re.compile(r"^(api\.|verify\.|healthz$|openapi$)")


def routes_and_methods(site: Site) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every documented route's views, from Pyramid itself."""
    introspector = site.app.registry.introspector
    patterns = dict(ROUTES)
    found = set()
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        route = intr["route_name"]
        if not route or not DOCUMENTED.match(route):
            continue
        methods = intr["request_methods"]
        methods = (methods,) if isinstance(methods, str) else methods or ("GET",)
        for method in methods:
            found.add((patterns[route], method.lower()))
    return found


def test_every_route_is_documented_and_every_operation_exists(site: Site) -> None:
    spec = site.web().get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert documented == routes_and_methods(site)


def test_the_document_is_valid_openapi(site: Site) -> None:
    spec = site.web().get("/api/openapi.json").json
    schema = schemathesis.openapi.from_dict(spec)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == len(routes_and_methods(site))
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            names = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert names == set(re.findall(r"\{(\w+)\}", path)), (path, method)
            for status, response in operation["responses"].items():
                assert status.isdigit(), (path, method, status)
                assert "$ref" in response or "description" in response


@pytest.fixture(scope="module")
def every_scope(site: Site) -> str:
    return site.run(add_client, "fuzzer", list(SCOPES))["key"]


def test_no_server_errors(site: Site, every_scope: str) -> None:
    """Every operation, a dozen generated requests each, with a key holding every scope.

    (schemathesis' own pytest integration, ``from_fixture``, does not run under pytest 9,
    so the operations are driven here with hypothesis directly.)"""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", site.app)
    headers = {"Authorization": f"Bearer {every_scope}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            label = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code} {response.text[:200]}")
            elif response.status_code >= 400 and "json" in response.headers.get("Content-Type", ""):
                body = response.json()
                if set(body) != {"error", "message", "fields"}:
                    failures.append(f"{label}: error shape {body}")

        check()
    assert not failures, "\n".join(failures[:20])
