"""``certarchive user add NAME --role institution --institution CLIENT`` (CONTRACT.md
"Institution users", H-N2) and ``audit verify --checkpoint`` on a bad export file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_institution_clerk_added_by_client_name_with_totp(cli_run: Any, runtime_of: Any) -> None:
    cli_run("init")
    cli_run(
        "client", "add", "icbc", "--scope", "certificates:read", "--scope", "certificates:download"
    )
    cli_run("client", "add", "upstream", "--scope", "cases:write")
    added = cli_run(
        "user", "add", "icbc_wang", "--role", "institution", "--institution", "icbc",
        "--institution-admin", "--password-stdin", input="long-password-1\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "otpauth://" in added.output and "(institution)" in added.output
    upstream = cli_run(
        "user", "add", "up_li", "--role", "institution", "--institution", "upstream",
        "--password-stdin", input="long-password-1\n",
    )  # fmt: skip
    assert upstream.exit_code == 1 and "certificates:read" in upstream.output
    missing = cli_run(
        "user", "add", "x_li", "--role", "institution", "--password-stdin",
        input="long-password-1\n",
    )  # fmt: skip
    assert missing.exit_code == 1 and "institution" in missing.output
    staff = cli_run(
        "user", "add", "y_li", "--role", "registrar", "--institution", "icbc",
        "--password-stdin", input="long-password-1\n",
    )  # fmt: skip
    assert staff.exit_code == 1 and "institution" in staff.output
    runtime = runtime_of()
    try:

        def clerk(ctx: Any) -> tuple[Any, ...]:
            user = ctx.registry.users["icbc_wang"]
            client = ctx.registry.clients[user.institution]
            return user.role, client.name, user.institution_admin, user.totp_secret_sealed

        role, client, admin, sealed = runtime.run(clerk, None)
    finally:
        runtime.close()
    assert (role, client, admin) == ("institution", "icbc", True) and sealed is not None
    listed = json.loads(cli_run("user", "list", "--json").output)
    assert {"name": "icbc_wang", "role": "institution"}.items() <= next(
        u for u in listed if u["name"] == "icbc_wang"
    ).items()


def test_audit_verify_refuses_a_broken_export_offline(cli_run: Any, tmp_path: Path) -> None:
    header = {"format": "certarchive-audit-export/1", "checkpoint": {}, "public_key_pem": "x"}
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(header) + "\n{}\n", encoding="utf-8")
    result = cli_run("audit", "verify", "--checkpoint", str(broken))  # no registry: offline
    assert result.exit_code == 1 and "not an exported log range" in result.output
