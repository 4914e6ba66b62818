"""Backups from the web, as CONTRACT.md gives the API: start, watch, list, verify.

The real app on a real FileStorage registry; the server's real worker thread runs each
job with the same export and verify code as the command line, and the tests read the
repository it wrote with that code too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from certarchive.backup.keys import load_key
from certarchive.backup.verify import verify_repository
from certarchive.services.setup import add_client
from tests.test_web_support import Site, csrf_of, make_site

ERROR_KEYS = {"error", "message", "fields"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    built = make_site(tmp_path_factory.mktemp("backups") / "var")
    built.keys["backups"] = built.run(add_client, "backups", ["backups:run"])["key"]
    yield built
    built.runtime.close()


@pytest.fixture
def web(site: Site) -> TestApp:
    return site.web()


def wait_for(web: TestApp, site: Site, job: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = web.get(f"/api/v1/backups/jobs/{job}", headers=site.headers("backups")).json
        if state["state"] != "running" or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def repository(site: Site) -> Path:
    return Path(site.raw["certarchive.keys_dir"]).parent / "backups"


def test_export_then_incremental_then_verify_through_the_api(site: Site, web: TestApp) -> None:
    site.issued()
    started = web.post_json(
        "/api/v1/backups", {"incremental": False}, headers=site.headers("backups")
    )
    assert started.status_int == 202
    full = wait_for(web, site, started.json["job"])
    assert full["state"] == "done", full
    assert full["progress"]["bytes"] > 0 and full["progress"]["databases"]["main"] > 0

    site.issued()
    started = web.post_json(
        "/api/v1/backups", {"incremental": True}, headers=site.headers("backups")
    )
    incremental = wait_for(web, site, started.json["job"])
    assert incremental["state"] == "done", incremental

    listing = web.get("/api/v1/backups", headers=site.headers("backups")).json
    assert listing["repository"] == str(repository(site))
    kinds = [(s["id"], s["kind"]) for s in listing["snapshots"]]
    assert kinds == [(incremental["snapshot"], "incremental"), (full["snapshot"], "full")]
    assert all(s["bytes"] > 0 and "verified_at" not in s for s in listing["snapshots"])

    # the repository the web wrote is the command line's: it verifies with the same code
    key = load_key(Path(site.raw["certarchive.keys_dir"]) / "backup.key")
    assert verify_repository(repository(site), key, remember=False).ok

    started = web.post("/api/v1/backups/verify", headers=site.headers("backups"))
    assert started.status_int == 202
    verified = wait_for(web, site, started.json["job"])
    assert verified["state"] == "done", verified
    listing = web.get("/api/v1/backups", headers=site.headers("backups")).json
    assert all(s["verified_at"] >= verified["started_at"] for s in listing["snapshots"])

    actions = [
        (e["action"], e["result"]) for e in site.entries() if e["action"].startswith("backup.")
    ]
    assert ("backup.export.start", "ok") in actions
    assert actions.count(("backup.export", "ok")) == 2
    assert ("backup.verify", "ok") in actions


def test_a_bad_body_is_refused_in_the_contracts_shape_and_queues_nothing(
    site: Site, web: TestApp
) -> None:
    before = web.get("/api/v1/backups", headers=site.headers("backups")).json
    response = web.post_json(
        "/api/v1/backups", {"incremental": "yes"}, headers=site.headers("backups"), status=422
    )
    assert set(response.json) == ERROR_KEYS and "incremental" in response.json["fields"]
    assert response.json["message"].index("incremental") >= 0
    response = web.post(
        "/api/v1/backups",
        "not json",
        headers={**site.headers("backups"), "Content-Type": "application/json"},
        status=400,
    )
    assert set(response.json) == ERROR_KEYS
    assert web.get("/api/v1/backups", headers=site.headers("backups")).json == before


def test_scopes_and_roles(site: Site, web: TestApp) -> None:
    web.post_json("/api/v1/backups", {}, status=401)
    for client in ("upstream", "audit"):
        denied = web.post_json("/api/v1/backups", {}, headers=site.headers(client), status=403)
        assert set(denied.json) == ERROR_KEYS
        web.get("/api/v1/backups", headers=site.headers(client), status=403)
    web.get("/api/v1/backups/jobs/99999", headers=site.headers("backups"), status=404)
    web.get("/api/v1/backups/jobs/abc", headers=site.headers("backups"), status=404)


def test_one_job_at_a_time(site: Site, web: TestApp) -> None:
    first = web.post_json("/api/v1/backups", {}, headers=site.headers("backups")).json["job"]
    second = web.post_json(
        "/api/v1/backups",
        {},
        headers={**site.headers("backups"), "Accept-Language": "en"},
        status=(202, 409),
    )
    if second.status_int == 409:  # the first still queued or running: refused, in words
        assert "backup job" in second.json["message"]
    else:  # the first had finished already
        assert wait_for(web, site, first)["state"] == "done"
        wait_for(web, site, second.json["job"])
    assert wait_for(web, site, first)["state"] == "done"


def test_a_backup_operator_session_uses_the_api_with_csrf(site: Site, web: TestApp) -> None:
    site.login(web, "backup_operator")
    page = web.get("/staff/backups")
    token = csrf_of(page)
    web.post_json("/api/v1/backups", {}, status=403)  # the session's cookie alone is not enough
    started = web.post_json("/api/v1/backups", {}, headers={"X-CSRF-Token": token})
    assert started.status_int == 202
    assert wait_for(web, site, started.json["job"])["state"] == "done"


def test_a_restore_drill_from_the_api_shows_its_result(site: Site, web: TestApp) -> None:
    site.issued()
    export = web.post_json("/api/v1/backups", {}, headers=site.headers("backups")).json["job"]
    assert wait_for(web, site, export)["state"] == "done"
    started = web.post("/api/v1/backups/drill", headers=site.headers("backups"))
    assert started.status_int == 202
    drill = wait_for(web, site, started.json["job"])
    assert drill["state"] == "done", drill
    last = web.get("/api/v1/backups", headers=site.headers("backups")).json["last_drill"]
    assert last["ok"] is True and last["job"] == started.json["job"]
    assert last["snapshot"] == drill["snapshot"] and last["certificates"] > 0
    site.login(web, "backup_operator")
    assert "通过" in web.get("/staff/backups").text


def test_a_full_export_estimates_its_size_from_the_previous_full_one(
    site: Site, web: TestApp
) -> None:
    from certarchive.backup.repository import Repository

    for _ in range(2):
        job = web.post_json("/api/v1/backups", {}, headers=site.headers("backups")).json["job"]
        state = wait_for(web, site, job)
        assert state["state"] == "done", state
    repo = Repository(repository(site))
    previous, newest = (repo.load(repo.manifest_path(s)) for s in _two_newest(repo))
    assert newest.snapshot == state["snapshot"]
    expected = sum(e["stream_bytes"] for e in previous.databases.values())
    assert state["progress"]["expected_bytes"] == expected
    written = sum(e["stream_bytes"] for e in newest.databases.values())
    assert abs(state["progress"]["bytes"] - written) < written / 100  # chunk framing aside


def _two_newest(repo: Any) -> list[str]:
    return [p.stem for p in repo.manifest_paths()[-2:]]


def test_the_page_shows_a_running_jobs_progress(site: Site, web: TestApp) -> None:
    """A job another process runs (owner on another machine, live heartbeat): the page
    shows its phase, bytes and estimated share, and refreshes itself."""
    from certarchive.services import backup_jobs

    def running_elsewhere(ctx: Any) -> int:
        record = backup_jobs.start_job(ctx, "export", False, "api")
        state = backup_jobs.backup_state(ctx.conn)
        progress = {"phase": "export", "bytes": 3 << 20, "databases": {"main": 3 << 20}}
        state.jobs[record["id"]] = dict(
            record,
            state="running",
            owner="elsewhere:1:x",
            started_at=ctx.now().isoformat(),
            progress=progress | {"expected_bytes": 12 << 20},
        )
        return record["id"]

    job = site.run(running_elsewhere)
    try:
        site.login(web, "backup_operator")
        page = web.get("/staff/backups")
        assert 'http-equiv="refresh"' in page.text and f"#{job}" in page.text
        assert '<progress max="100" value="25">' in page.text and "导出中" in page.text
        refused = web.post_json("/api/v1/backups", {}, headers=site.headers("backups"), status=409)
        assert f"备份任务 {job} 正在进行" in refused.json["message"]  # Chinese by default
    finally:
        site.run(backup_jobs.recover, lambda record: record["id"] == job)
    assert web.get(f"/api/v1/backups/jobs/{job}").json["interrupted"] is True


def test_every_backup_answer_validates_against_its_documented_model(
    site: Site, web: TestApp
) -> None:
    """One schema source (#13): the answers of the backup API are the models the API
    document shows for them (tests/test_schemas_answers.py covers the rest)."""
    from tests.test_schemas_answers import documented_model

    backups = site.headers("backups")
    started = web.post_json("/api/v1/backups", {}, headers=backups)
    documented_model("/api/v1/backups", "post", 202).model_validate(started.json)
    job = started.json["job"]
    running = web.get(f"/api/v1/backups/jobs/{job}", headers=backups).json
    documented_model("/api/v1/backups/jobs/{job}", "get", 200).model_validate(running)
    documented_model("/api/v1/backups/jobs/{job}", "get", 200).model_validate(
        wait_for(web, site, job)
    )
    for kind in ("verify", "drill"):
        answer = web.post(f"/api/v1/backups/{kind}", headers=backups)
        documented_model(f"/api/v1/backups/{kind}", "post", 202).model_validate(answer.json)
        documented_model("/api/v1/backups/jobs/{job}", "get", 200).model_validate(
            wait_for(web, site, answer.json["job"])
        )
    listing = web.get("/api/v1/backups", headers=backups).json
    assert listing["snapshots"] and listing["last_drill"]
    documented_model("/api/v1/backups", "get", 200).model_validate(listing)
