"""Replaying a log offline and proving it whole (H-5.2.4, H-5.2.5).

The verifier trusts nothing stored beside the entries: it recomputes every leaf from the
entry, its sequence number and integration time, rebuilds the Merkle tree, and checks
each signed checkpoint's root, signature, size and time against the rebuilt tree, and
each kept subtree hash that proofs are served from against the rebuilt one.  A
checkpoint kept outside the system (``--checkpoint FILE``) pins the log at a size the
attacker cannot rewrite: a log rolled back below it, or rewritten before it, fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from certarchive.audit import merkle
from certarchive.audit.log import NODE_LEVEL, AppendOnlyLog, checkpoint_body, leaf_data
from certarchive.audit.queue import Outbox
from certarchive.crypto.sm import SM2PublicKey, sm3
from certarchive.findings import Findings
from certarchive.i18n import _


@dataclass
class LogReport(Findings):
    log: str = ""
    size: int = 0
    pending: int = 0
    checkpoints: int = 0
    root: str | None = None


def checkpoint_signature_ok(checkpoint: Mapping[str, Any], public_key: SM2PublicKey) -> bool:
    try:
        body = checkpoint_body(
            checkpoint["log"],
            checkpoint["size"],
            bytes.fromhex(checkpoint["root"]),
            checkpoint["time"],
        )
        return public_key.verify(body, bytes.fromhex(checkpoint["signature"]))
    except (KeyError, TypeError, ValueError):
        return False


#: Entries replayed between two shrinkings of the connection's cache to its target: the
#: replay reads every entry once, and ZODB keeps what a transaction read until it ends
#: (3.7 million entries: 2.7 GB before).
SHED_EVERY = 20_000


def _check_entries(log: AppendOnlyLog, report: LogReport, also: int | None) -> dict[int, bytes]:
    """Recompute every leaf; return the tree root after each size that a checkpoint names
    (and after size ``also``: an external checkpoint's).  One pass, in bounded memory: the
    frontier holds a hash a level, and what was read is let go as the replay moves on."""
    wanted = {cp["size"] for cp in log.checkpoints.values() if isinstance(cp.get("size"), int)}
    if also is not None:
        wanted.add(also)
    roots: dict[int, bytes] = {0: sm3(b"")}
    frontier = merkle.MerkleFrontier(sm3)
    previous_time = ""
    jar = log._p_jar
    for seq, record in log.entries.items():
        if jar is not None and seq % SHED_EVERY == SHED_EVERY - 1:
            jar.cacheGC()
        if seq != frontier.size:
            report.problems.append(_("条目 ${size} 缺失", mapping={"size": frontier.size}))
            break
        leaf = merkle.leaf_hash(sm3, leaf_data(seq, record["integrated_at"], record["entry"]))
        if leaf != record["leaf"]:
            report.problems.append(_("条目 ${seq} 内容被改动", mapping={"seq": seq}))
        if record["integrated_at"] < previous_time:
            report.problems.append(_("条目 ${seq} 时间倒序", mapping={"seq": seq}))
        previous_time = record["integrated_at"]
        for level, index, node in frontier.append(leaf):
            if log.nodes is None or level < NODE_LEVEL:
                continue  # a log from before kept nodes has none to check
            if log.stored_node(level, index) != node:
                report.problems.append(
                    _(
                        "证明节点 (${level}, ${index}) 与条目不符",
                        mapping={"level": level, "index": index},
                    )
                )
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
    report.size = frontier.size
    report.root = frontier.root().hex()
    if log.size != frontier.size:
        report.problems.append(
            _(
                "日志长度记录为 ${size}，实有 ${size2}",
                mapping={"size": log.size, "size2": frontier.size},
            )
        )
    return roots


def _check_checkpoints(log: AppendOnlyLog, roots: dict[int, bytes], report: LogReport) -> None:
    public_key = SM2PublicKey.from_bytes(log.public_key)
    previous: Mapping[str, Any] = {"size": 0, "time": ""}
    for number, checkpoint in log.checkpoints.items():
        report.checkpoints += 1
        where = _("检查点 ${number}", mapping={"number": number})
        if checkpoint.get("log") != log.name or not checkpoint_signature_ok(checkpoint, public_key):
            report.problems.append(_("${where}: 签名无效", mapping={"where": where}))
            continue
        size = checkpoint["size"]
        if size < previous["size"] or checkpoint["time"] < previous["time"]:
            report.problems.append(_("${where}: 顺序错误", mapping={"where": where}))
        if size > report.size:
            report.problems.append(
                _("${where}: 日志被截断（${size}）", mapping={"where": where, "size": size})
            )
        elif roots.get(size) != bytes.fromhex(checkpoint["root"]):
            report.problems.append(_("${where}: 根哈希不符", mapping={"where": where}))
        previous = checkpoint


def check_external(
    log: AppendOnlyLog,
    external: Mapping[str, Any],
    public_key: SM2PublicKey,
    report: LogReport,
    roots: Mapping[int, bytes],
) -> None:
    """An auditor's saved checkpoint: same log, valid signature, and the log still holds it
    (``roots``: the replay's root after the checkpoint's size)."""
    if external.get("log") != log.name or not checkpoint_signature_ok(external, public_key):
        report.problems.append(_("外部检查点签名无效"))
        return
    size = external["size"]
    if size > report.size:
        report.problems.append(
            _(
                "日志比外部检查点短（${size}，${size2}）",
                mapping={"size": report.size, "size2": size},
            )
        )
        return
    root = roots.get(size)
    if root is None or root.hex() != external["root"]:
        report.problems.append(_("日志与外部检查点不一致"))


def verify_log(
    log: AppendOnlyLog,
    external: Mapping[str, Any] | None = None,
    external_key: SM2PublicKey | None = None,
    outbox: Outbox | None = None,
) -> LogReport:
    """Replay ``log``; ``pending`` counts the entries still queued (given the outbox, those
    there too): they are not in the tree yet, so nothing about them can be checked."""
    report = LogReport(log=log.name, pending=len(log.queued(outbox)))
    size = external.get("size") if external is not None else None
    roots = _check_entries(log, report, size if isinstance(size, int) else None)
    _check_checkpoints(log, roots, report)
    if external is not None:
        key = external_key or SM2PublicKey.from_bytes(log.public_key)
        check_external(log, external, key, report, roots)
    return report


def load_checkpoint_file(text: str) -> tuple[dict[str, Any], SM2PublicKey | None]:
    """A file written by ``audit checkpoint``: the checkpoint and, if present, its key PEM."""
    document = json.loads(text)
    if not isinstance(document, dict) or "checkpoint" not in document:
        raise ValueError("not a checkpoint file")
    pem = document.get("public_key_pem")
    return document["checkpoint"], SM2PublicKey.from_pem(pem.encode()) if pem else None
