"""Shared set-up for the web tests: a real registry on FileStorage, the real app, users,
API keys and helpers.  Imported by the test_web_* modules (it holds no tests itself):
``from tests.test_web_support import site_fixture, web_fixture`` makes the fixtures
``site`` and ``web`` available there.

The registry is module-scoped (one per test module) to keep the suite fast; every test
makes its own cases, so tests do not depend on each other's data.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from webtest import TestApp

from certarchive.config import load_settings
from certarchive.services.context import utc_now
from certarchive.services.identity import enroll_totp
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import add_client, add_user, initialise
from certarchive.validation.samples import sample_case
from certarchive.web import make_app
from tests.conftest import file_settings, log_entries

PASSWORD = "correct horse 2026"
USERS = {
    "registrar": "li_registrar",
    "archivist": "wang_archivist",
    "admin": "zhao_admin",
    "auditor": "sun_auditor",
    "backup_operator": "qian_backup",
}
CLIENTS = {
    "upstream": ["cases:write"],
    "bank": ["certificates:read", "certificates:download"],
    "bank_read": ["certificates:read"],
    "manager": ["certificates:manage"],
    "filer": ["cases:file"],
    "audit": ["audit:read"],
}
FAST = {
    "certarchive.ratelimit.verify": "100000/60",
    "certarchive.ratelimit.holder": "100000/60",
    "certarchive.ratelimit.login": "100000/60",  # the per-account lockout tests need room
}


@dataclass
class Site:
    runtime: Runtime
    raw: dict[str, str]
    app: Any
    keys: dict[str, str]
    totp_secret: str
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(0))
    totp_steps: int = 0
    last_totp: tuple[datetime, str] | None = None

    # --- apps and sessions -----------------------------------------------------------

    def web(self, **environ: str) -> TestApp:
        return TestApp(self.app, extra_environ={"REMOTE_ADDR": "192.0.2.10", **environ})

    def other_app(self, **settings: str) -> Any:
        """A second app on the same registry, with other web settings."""
        return make_app({**self.raw, **settings}, runtime=self.runtime)

    def headers(self, client: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[client]}"}

    def set_clock(self, clock: Any) -> None:
        self.app.registry.clock = clock

    def reset_clock(self) -> None:
        self.app.registry.clock = utc_now

    def login(self, web: TestApp, role: str, password: str = PASSWORD) -> str:
        """Sign ``role``'s user in on ``web``; return the session's CSRF token."""
        page = web.get("/login")
        form = page.forms[0]
        form["username"] = USERS[role]
        form["password"] = password
        response = form.submit()
        if role == "admin":
            assert response.location.endswith("/login/totp")
            form = response.follow().forms[0]
            response = self.submit_totp(form)
        assert response.status_int == 302, response.text[:500]
        return csrf_of(web.get("/staff").maybe_follow())

    def submit_totp(self, form: Any, code: str | None = None) -> Any:
        """Submit the TOTP form with a code of a time step never used before: each step is
        accepted once, so the app's clock moves 30 s on for every admin sign-in."""
        self.totp_steps += 1
        moment = utc_now() + timedelta(seconds=30 * self.totp_steps)
        previous = self.app.registry.clock
        self.app.registry.clock = lambda: moment
        try:
            form["code"] = code or pyotp.TOTP(self.totp_secret).at(moment)
            self.last_totp = (moment, form["code"].value)
            return form.submit()
        finally:
            self.app.registry.clock = previous

    # --- data ----------------------------------------------------------------------------

    def document(self, shape: int = 0, **changes: Any) -> dict[str, Any]:
        """A fresh valid case document; ``shape`` as in sample_case (0: one right cert)."""
        while True:
            n = next(self.numbers)
            if n % 3 == shape:
                break
        doc = sample_case(n)
        doc.update(changes)
        return doc

    def record(self, doc: dict[str, Any]) -> Any:
        return self.web().post_json("/api/v1/cases", doc, headers=self.headers("upstream"))

    def pay(self, doc: dict[str, Any], receipt: str | None = None) -> dict[str, Any]:
        payment = {
            "receipt_no": receipt or f"R-{doc['case_no']}",
            "amount": "80.00",
            "paid_at": doc["recorded_at"],
        }
        response = self.web().post_json(
            f"/api/v1/cases/{doc['case_no']}/payment", payment, headers=self.headers("upstream")
        )
        return response.json

    def issued(self, shape: int = 0, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A recorded and paid case: (document, payment result with serials and codes)."""
        doc = self.document(shape, **changes)
        self.record(doc)
        return doc, self.pay(doc)

    def holder_token(self, doc: dict[str, Any], paid: dict[str, Any]) -> str:
        holder = doc["certificates"][0]["holders"][0]
        response = self.web().post_json(
            "/api/v1/holder/session",
            {
                "id_number": holder["id_number"],
                "download_code": paid["certificates"][0]["download_code"],
            },
        )
        return response.json["token"]

    def entries(self, log: str = "audit") -> list[dict[str, Any]]:
        return self.runtime.run(log_entries, SYSTEM, log)

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.runtime.run(fn, SYSTEM, *args, **kwargs)


def csrf_of(page: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def make_site(var: Path, **settings: str) -> Site:
    raw = file_settings(var, **FAST, **settings)
    parsed = load_settings(raw)
    runtime = Runtime.open(parsed, create_keys=True)
    runtime.run(initialise, SYSTEM, parsed.agency)
    for role, name in USERS.items():
        runtime.run(add_user, SYSTEM, name, role, PASSWORD, None)
    totp = runtime.run(enroll_totp, SYSTEM, USERS["admin"])
    keys = {
        name: runtime.run(add_client, SYSTEM, name, scopes)["key"]
        for name, scopes in CLIENTS.items()
    }
    return Site(runtime, raw, make_app(raw, runtime=runtime), keys, totp["secret"])


@pytest.fixture(scope="module", name="site")
def site_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    built = make_site(tmp_path_factory.mktemp("web") / "var")
    yield built
    built.runtime.close()


@pytest.fixture(name="web")
def web_fixture(site: Site) -> Iterator[TestApp]:
    site.reset_clock()
    yield site.web()
    site.reset_clock()


def at(moment: datetime) -> Any:
    return lambda: moment
