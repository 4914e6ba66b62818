"""Audit services: sequence and checkpoint the logs, verify them, read them for auditors."""

from __future__ import annotations

from typing import Any

from certarchive.audit.log import LOG_NAMES, get_log, signing_key
from certarchive.audit.verify import LogReport, load_checkpoint_file, verify_log
from certarchive.crypto.sm import SM2PublicKey
from certarchive.services.context import Context
from certarchive.services.errors import Invalid


def _log_name(name: str) -> str:
    if name not in LOG_NAMES:
        raise Invalid("日志名称无效 / unknown log", {"log": " | ".join(LOG_NAMES)})
    return name


def integrate_logs(ctx: Context) -> dict[str, dict[str, Any] | None]:
    """Sequence every pending entry of both logs and sign a checkpoint for each that grew."""
    return {
        name: get_log(ctx.conn, name).integrate(
            signing_key(get_log(ctx.conn, name), ctx.keyring), ctx.now()
        )
        for name in LOG_NAMES
    }


def checkpoint_document(ctx: Context, name: str) -> dict[str, Any]:
    """The newest checkpoint with the log's public key: what an auditor keeps outside."""
    log = get_log(ctx.conn, _log_name(name))
    checkpoint = log.latest_checkpoint()
    return {
        "checkpoint": checkpoint,
        "public_key_pem": SM2PublicKey.from_bytes(log.public_key).to_pem().decode(),
    }


def verify(ctx: Context, name: str, external_text: str | None = None) -> LogReport:
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    if external_text is None:
        return verify_log(log)
    try:
        external, key = load_checkpoint_file(external_text)
    except (ValueError, TypeError):
        raise Invalid(
            "检查点文件无效 / not a checkpoint file", {"checkpoint": "JSON from `audit checkpoint`"}
        ) from None
    return verify_log(log, external, key)


def entries(ctx: Context, name: str, start: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Sequenced entries for auditors; entries hold no personal data by construction."""
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    return [
        {"seq": seq, "integrated_at": record["integrated_at"], **record["entry"]}
        for seq, record in log.entries.items(start, start + limit - 1)
    ]
