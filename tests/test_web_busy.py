"""A request that keeps conflicting is retried, then answered 503 with Retry-After —
never a 500 — and commits nothing."""

from __future__ import annotations

from pyramid.config import Configurator
from webtest import TestApp
from ZODB.POSException import ConflictError

from tests.test_web_support import Site, site_fixture  # noqa: F401


def test_exhausted_conflicts_answer_busy(site: Site) -> None:
    app = site.other_app(**{"retry.attempts": "3"})
    attempts: list[int] = []

    def always_conflicting(request: object) -> None:
        attempts.append(1)
        raise ConflictError("the serial counter again")

    config = Configurator(registry=app.registry)
    config.add_route("test.conflict", "/test/conflict")
    config.add_view(always_conflicting, route_name="test.conflict")
    config.commit()
    response = TestApp(app).get(
        "/test/conflict", status=503, headers={"Accept": "application/json"}
    )
    assert len(attempts) == 3
    assert response.headers["Retry-After"] == "1"
    assert response.json["error"] == "busy"
    assert "Traceback" not in response.text
