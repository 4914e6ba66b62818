"""Demo data through the normal code path: the upstream records cases, then confirms payment."""

from __future__ import annotations

import secrets
import sys

from certarchive.services.cases import confirm_payment, record_case
from certarchive.services.context import Context
from certarchive.services.identity import enroll_totp
from certarchive.services.permissions import SYSTEM, client_actor
from certarchive.services.runtime import Runner
from certarchive.services.setup import add_user
from certarchive.validation.samples import sample_case

UPSTREAM = client_actor("demo-upstream", ("cases:write",))
DEMO_USERS = (
    ("admin", "admin"),
    ("registrar", "registrar"),
    ("archivist", "archivist"),
    ("auditor", "auditor"),
    ("backup", "backup_operator"),
)


def _missing_users(ctx: Context) -> list[tuple[str, str]]:
    return [(name, role) for name, role in DEMO_USERS if name not in ctx.registry.users]


def create_demo_users(runtime: Runner) -> list[tuple[str, ...]]:
    """Demo staff logins with fresh random passwords: (name, role, password) of each new
    one, and for the admin its TOTP URI (admins sign in with a second factor)."""
    created: list[tuple[str, ...]] = []
    for name, role in runtime.run(_missing_users, SYSTEM):
        password = secrets.token_urlsafe(12)
        runtime.run(add_user, SYSTEM, name, role, password, None)
        totp = (runtime.run(enroll_totp, SYSTEM, name)["uri"],) if role == "admin" else ()
        created.append((name, role, password, *totp))
    return created


def _case_count(ctx: Context) -> int:
    return len(ctx.agency().cases)


def load_demo(runtime: Runner, count: int, progress: bool = False) -> int:
    """Add ``count`` paid cases after those already present; return how many were added."""
    start = runtime.run(_case_count, UPSTREAM)
    for n in range(start, start + count):
        document = sample_case(n)
        runtime.run(record_case, UPSTREAM, document)
        payment = {
            "receipt_no": f"DEMO-{n:08d}",
            "amount": "80.00",
            "paid_at": document["recorded_at"],
        }
        runtime.run(confirm_payment, UPSTREAM, document["case_no"], payment)
        if progress:
            sys.stderr.write(f"\r{n - start + 1}/{count}")
    if progress:
        sys.stderr.write("\n")
    return count
