"""/api/openapi.json matches the code both ways, and schemathesis, run against a live
server, finds no 5xx and no answer that disagrees with the document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from certarchive.content.principals import SCOPES
from certarchive.views import ROUTES
from tests.servers import serving
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


#: Generated requests per operation: about 300 in all, well under a minute.
EXAMPLES_PER_OPERATION = 9
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.content_type_conformance,
]


def test_schemathesis_against_a_live_server(cli_run: Any, ini: Path, tmp_path: Path) -> None:
    """``certarchive serve`` on a registry with demo certificates (the document's example
    serial names one), every operation driven by schemathesis with a key holding every
    scope: no 5xx, every answer's status, content type and body as the document says, and
    no internal error in the server's log.

    (schemathesis' own pytest integration does not run under pytest 9, so the operations
    are driven here with hypothesis directly.)"""
    assert cli_run("init", "--demo", "2").exit_code == 0
    scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
    key = json.loads(cli_run("client", "add", "fuzzer", *scopes, "--json").output)["key"]
    headers = {"Authorization": f"Bearer {key}"}
    log = tmp_path / "server.log"
    failures: list[str] = []
    cases = 0
    with serving(ini, log=log) as base:
        schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 25
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                nonlocal cases
                cases += 1
                try:
                    case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)
                except (AssertionError, BaseExceptionGroup) as failure:
                    label = f"{case.method} {case.path}"
                    failures.append(f"{label}: {str(failure)[:600]}")

            check()
    assert cases >= 200
    assert not failures, "\n\n".join(failures[:10])
    assert "internal error" not in log.read_text(errors="replace")
