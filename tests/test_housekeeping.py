"""The serving process's sweep: expired sessions and holder sign-in attempt records are
deleted; a live lock, a recent failure and a live session stay and keep working."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from webtest import TestApp

from certarchive.audit.log import get_log
from certarchive.audit.queue import get_outbox
from certarchive.crypto.sm import sm3_hex
from certarchive.services.context import utc_now
from certarchive.services.holders import (
    ATTEMPT_MEMORY,
    attempt_expired,
    purge_expired_attempts,
)
from certarchive.services.permissions import SYSTEM
from certarchive.services.sequencer import purge_expired, start_sequencer
from certarchive.validation.identifiers import normalize
from tests.test_web_support import Site, at, site_fixture, web_fixture  # noqa: F401


def fail_sign_in(site: Site, id_number: str, times: int, moment: datetime) -> int:
    """``times`` wrong sign-ins for ``id_number`` at ``moment``; the last answer's status."""
    site.set_clock(at(moment))
    try:
        for _ in range(times):
            response = site.web().post_json(
                "/api/v1/holder/session",
                {"id_number": id_number, "download_code": "WRONGCODE7"},
                status="*",
            )
        return response.status_int
    finally:
        site.reset_clock()


def attempt(site: Site, id_number: str) -> dict[str, Any] | None:
    def look(ctx: Any) -> dict[str, Any] | None:
        record = ctx.registry.holder_attempts.get(ctx.keyring.blind_index(normalize(id_number)))
        return dict(record) if record is not None else None

    return site.run(look)


def session_key(web: TestApp) -> str:
    """The server keeps a session under the SM3 of its id (services.identity)."""
    return sm3_hex(web.cookies["ca_session"].encode())


def sessions(site: Site) -> set[str]:
    return site.run(lambda ctx: set(ctx.registry.sessions.keys()))


def queued_count(ctx: Any) -> int:
    return len(get_log(ctx.conn, "audit").queued(get_outbox(ctx.conn)))


def test_expired_attempts_go_and_live_ones_stay(site: Site) -> None:
    now = utc_now()
    old_failure, ended_lock = "110101199003070011", "110101199003070038"
    inside_window, live_lock, recent = (
        "110101199003070054",
        "110101199003070070",
        "11010119900307009X",
    )
    assert fail_sign_in(site, old_failure, 1, now - timedelta(hours=25)) == 401
    assert fail_sign_in(site, ended_lock, 5, now - timedelta(minutes=20)) == 429
    assert fail_sign_in(site, inside_window, 1, now - timedelta(hours=23)) == 401
    assert fail_sign_in(site, live_lock, 5, now - timedelta(minutes=10)) == 429
    assert fail_sign_in(site, recent, 2, now) == 401
    everyone = (old_failure, ended_lock, inside_window, live_lock, recent)
    assert all(attempt(site, id_number) is not None for id_number in everyone)

    before = len(site.entries())
    purged = site.run(purge_expired)
    assert purged["holder_attempts"] >= 2
    purges = [e for e in site.entries()[before:] if e["action"] == "system.purge"]
    assert [e["detail"] for e in purges] == [purged]
    assert attempt(site, old_failure) is None and attempt(site, ended_lock) is None
    assert attempt(site, inside_window)["failures"] == 1
    assert attempt(site, live_lock)["locked_until"] is not None
    assert attempt(site, recent)["failures"] == 2
    before = len(site.entries())
    assert site.run(purge_expired) == {"sessions": 0, "holder_attempts": 0}
    assert not [e for e in site.entries()[before:] if e["action"] == "system.purge"]
    assert all(attempt(site, id_number) for id_number in (inside_window, live_lock, recent))

    # and they still count: the lock holds, the two failures lead to a lock after three more
    assert fail_sign_in(site, live_lock, 1, utc_now()) == 429
    assert fail_sign_in(site, recent, 2, utc_now()) == 401
    assert fail_sign_in(site, recent, 1, utc_now()) == 429


def test_expired_sessions_go_and_a_live_one_keeps_working(site: Site) -> None:
    """Made newest first: each sign-in sweeps a batch of sessions by its own clock, and a
    session made later than that clock is not expired to it."""
    now = utc_now()
    live, idle, old = site.web(), site.web(), site.web()
    site.login(live, "registrar")
    site.set_clock(at(now - timedelta(minutes=20)))
    site.login(idle, "archivist")  # 15 minutes idle: expired
    doc, paid = site.issued()
    site.set_clock(at(now - timedelta(hours=2)))
    holder_token = site.holder_token(doc, paid)  # a holder's session lasts an hour
    site.set_clock(at(now - timedelta(hours=9)))
    site.login(old, "auditor")  # 8 hours in all: expired
    site.reset_clock()
    holder_key = sm3_hex(holder_token.encode())
    expired = {session_key(idle), session_key(old), holder_key}
    assert expired | {session_key(live)} <= sessions(site)

    purged = site.run(purge_expired)
    assert purged["sessions"] >= 3
    remaining = sessions(site)
    assert not expired & remaining
    assert session_key(live) in remaining
    assert live.get("/staff").status_int == 200


def test_a_sweep_deletes_at_most_its_limit(run: Any) -> None:
    now = utc_now()
    old = (now - ATTEMPT_MEMORY - timedelta(minutes=1)).isoformat()

    def plant(ctx: Any) -> None:
        attempts = ctx.registry.holder_attempts
        for n in range(3):
            attempts[f"expired-{n}"] = {"failures": 1, "last": old, "locked_until": None}
        attempts["live"] = {"failures": 3, "last": now.isoformat(), "locked_until": None}

    run(plant, actor=SYSTEM)
    assert run(purge_expired_attempts, 2, actor=SYSTEM) == 2
    assert run(purge_expired_attempts, 2, actor=SYSTEM) == 1
    assert run(purge_expired_attempts, 2, actor=SYSTEM) == 0
    assert run(lambda ctx: list(ctx.registry.holder_attempts.keys()), actor=SYSTEM) == ["live"]


def test_when_a_record_counts_as_expired() -> None:
    now = utc_now()
    lock = {"failures": 0, "last": (now - timedelta(minutes=15)).isoformat()}
    assert attempt_expired({**lock, "locked_until": now.isoformat()}, now)
    assert not attempt_expired(
        {**lock, "locked_until": (now + timedelta(seconds=1)).isoformat()}, now
    )
    failure = {"failures": 4, "locked_until": None}
    assert not attempt_expired({**failure, "last": (now - ATTEMPT_MEMORY).isoformat()}, now)
    expired = (now - ATTEMPT_MEMORY - timedelta(seconds=1)).isoformat()
    assert attempt_expired({**failure, "last": expired}, now)


def test_the_serving_job_sweeps_and_still_sequences(site: Site) -> None:
    """The thread `certarchive serve` starts: its first round sweeps, every round sequences."""
    gone, kept = "110101199003070118", "110101199003070134"
    fail_sign_in(site, gone, 1, utc_now() - timedelta(days=2))
    fail_sign_in(site, kept, 1, utc_now())
    stop = start_sequencer(site.runtime, 0.05, sweep_every=3600)
    try:
        deadline = time.monotonic() + 20
        while attempt(site, gone) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        while site.run(queued_count) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    finally:
        stop.set()
    assert attempt(site, gone) is None
    assert attempt(site, kept) is not None
    assert site.run(queued_count) == 0
