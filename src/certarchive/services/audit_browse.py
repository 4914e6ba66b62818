"""The auditors' pages over the logs (H-5.2.4, H-5.2.5): filter, page, prove, export.

The logs are numbered in order; a filter (actor, action, object, time range, agency)
reads them newest first and keeps what matches, so a page costs one pass over the log
(the logs are append-only and hold no index of their own: an index would be a second,
unsigned copy of what the Merkle tree covers).  Entries are shown as
:func:`certarchive.services.audit.entries` shows them (personal data masked for callers
who may not read it, H-5.2.3); each one can be shown with its inclusion proof against the
newest signed checkpoint, checked here (:mod:`certarchive.audit.proof`); a filtered range
is exported as JSON lines that ``certarchive audit verify --checkpoint FILE`` checks
offline.  Browsing and exporting are themselves audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from certarchive.audit.log import AppendOnlyLog, get_log
from certarchive.audit.proof import EXPORT_FORMAT, NOT_COVERED, check_inclusion
from certarchive.audit.queue import LOG_NAMES, entry_bytes, entry_dict
from certarchive.crypto.sm import SM2PublicKey
from certarchive.i18n import _
from certarchive.services.audit import MAX_SEQ, shown_entry
from certarchive.services.context import Context
from certarchive.services.errors import Invalid, NotFound
from certarchive.services.issuance import CHINA

PAGE_SIZE = 50
MAX_EXPORT = 20_000  # entries in one export: built whole in the request (≈ 1.5 KiB a line)
FILTER_INVALID = _("筛选条件无效")
TEXT_FILTERS = ("actor", "action", "object")


@dataclass(frozen=True)
class LogFilter:
    """What an auditor asked for; empty fields match everything."""

    log: str = "audit"
    actor: str = ""
    action: str = ""
    object: str = ""
    since: date | None = None
    until: date | None = None
    agency: str = ""
    marks: tuple[str, ...] = field(default=(), compare=False)  # the agency's county code, name
    page: int = 1

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for links to other pages and the export)."""
        values = {
            "log": self.log,
            "actor": self.actor,
            "action": self.action,
            "object": self.object,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "agency": self.agency,
        }
        return {key: value for key, value in values.items() if value}

    def matches(self, entry: Mapping[str, Any], agency_of: Mapping[str, str | None]) -> bool:
        for name in TEXT_FILTERS:
            wanted = getattr(self, name)
            if wanted and wanted.lower() not in str(entry.get(name) or "").lower():
                return False
        if self.since or self.until:
            day = _day(entry.get("time"))
            if day is None or (self.since and day < self.since):
                return False
            if self.until and day > self.until:
                return False
        if self.agency:
            obj = str(entry.get("object") or "")
            actor_agency = agency_of.get(str(entry.get("actor")))
            if actor_agency != self.agency and not any(mark in obj for mark in self.marks):
                return False
        return True


def _day(value: Any) -> date | None:
    """The day (China time) an entry was written."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(CHINA).date() if moment.tzinfo else moment.date()


def _date(value: str, name: str, problems: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems[name] = _("日期格式为 年-月-日，如 2026-03-01")
        return None


def parse_filter(ctx: Context, params: Mapping[str, Any]) -> LogFilter:
    """The filter from query parameters; Invalid naming every bad one."""
    ctx.require("audit.read")

    def text(name: str) -> str:
        value = params.get(name, "")
        return value.strip()[:200] if isinstance(value, str) else ""

    problems: dict[str, str] = {}
    log = text("log") or "audit"
    if log not in LOG_NAMES:
        problems["log"] = _("须为 audit 或 sharing")
    since, until = _date(text("from"), "from", problems), _date(text("to"), "to", problems)
    if since and until and since > until:
        problems["to"] = _("结束日期早于开始日期")
    agency, marks = text("agency"), ()
    if agency:
        found = ctx.registry.agencies.get(agency)
        if found is None or ctx.actor.agency not in (None, agency):
            problems["agency"] = _("没有这个登记机构")
        else:
            marks = (found.settings["county_code"], found.settings["county"])
    page = text("page") or "1"
    if not (page.isascii() and page.isdigit() and 1 <= int(page) <= MAX_SEQ):
        problems["page"] = _("页码须为正整数")
    if problems:
        raise Invalid(FILTER_INVALID, problems)
    return LogFilter(
        log, text("actor"), text("action"), text("object"), since, until, agency, marks, int(page)
    )


def _agency_of(ctx: Context) -> dict[str, str | None]:
    """Actor name (as entries write it) -> the agency the user or client is bound to."""
    registry = ctx.registry
    bound: dict[str, str | None] = {user.name: user.agency for user in registry.users.values()}
    bound.update(
        (f"client:{c.name}", getattr(c, "agency", None)) for c in registry.clients.values()
    )
    return bound


def _needles(wanted: LogFilter) -> list[bytes]:
    """Bytes that an entry's canonical JSON must hold to match: the actor and action
    filters, which are never masked, when JSON writes them as they are (ASCII without
    quotes or backslashes).  Searching the stored bytes first spares decoding the entries
    that cannot match (bench/bench_audit_pages.py)."""
    return [
        text.lower().encode()
        for text in (wanted.actor, wanted.action)
        if text and text.isascii() and '"' not in text and "\\" not in text
    ]


def _matching(ctx: Context, log: AppendOnlyLog, wanted: LogFilter) -> Iterator[tuple[int, Any]]:
    """``(seq, record)`` of matching sequenced entries, newest first."""
    agency_of = _agency_of(ctx) if wanted.agency else {}
    personal = "certificate.read_personal" in ctx.actor.permissions
    needles = _needles(wanted)
    for seq in reversed(range(log.size)):
        record = log.entries[seq]
        if wanted.since and (_day(record["integrated_at"]) or wanted.since) < wanted.since:
            # sequencing times never go back (``audit verify`` checks it) and an entry is
            # sequenced after it is written: every older entry was written before ``since``
            break
        if needles:
            raw = entry_bytes(record["entry"]).lower()
            if not all(needle in raw for needle in needles):
                continue  # cannot match: not worth decoding
        if wanted.matches(shown_entry(seq, record, personal), agency_of):
            yield seq, record


def browse(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """One page of matching entries, newest first, with how many match in all."""
    wanted = parse_filter(ctx, params)
    log = get_log(ctx.conn, wanted.log)
    personal = "certificate.read_personal" in ctx.actor.permissions
    first = (wanted.page - 1) * PAGE_SIZE
    shown, total = [], 0
    if not wanted.query().keys() - {"log"}:  # no filter: the page is a slice of the log
        total = log.size
        newest = log.size - 1 - first
        for seq in range(newest, max(newest - PAGE_SIZE, -1), -1):
            shown.append(shown_entry(seq, log.entries[seq], personal))
    else:
        for seq, record in _matching(ctx, log, wanted):
            if first <= total < first + PAGE_SIZE:
                shown.append(shown_entry(seq, record, personal))
            total += 1
    ctx.audit("audit.browse", f"log:{wanted.log}", detail={**wanted.query(), "page": wanted.page})
    return {
        "filter": wanted,
        "entries": shown,
        "total": total,
        "page": wanted.page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "size": log.size,
        "checkpoint": log.latest_checkpoint(),
    }


def _seq(log: AppendOnlyLog, value: Any) -> int:
    text = value if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit() and int(text) < log.size):
        raise NotFound(_("日志中没有这个条目"))
    return int(text)


def _proof_of(log: AppendOnlyLog, seq: int, checkpoint: Mapping[str, Any] | None) -> list[str]:
    if checkpoint is None or seq >= checkpoint["size"]:
        return []
    return [node.hex() for node in log.inclusion_proof(seq, checkpoint["size"])]


def entry_proof(ctx: Context, name: str, seq_text: Any) -> dict[str, Any]:
    """Entry ``seq`` of log ``name`` with its inclusion proof against the newest signed
    checkpoint, and what the check found (an empty ``problems`` list: verified)."""
    ctx.require("audit.read")
    if name not in LOG_NAMES:
        raise NotFound(_("日志不存在"))
    log = get_log(ctx.conn, name)
    seq = _seq(log, seq_text)
    record = log.entries[seq]
    personal = "certificate.read_personal" in ctx.actor.permissions
    shown = shown_entry(seq, record, personal)
    exact = entry_dict(record["entry"])
    checkpoint = log.latest_checkpoint()
    proof = _proof_of(log, seq, checkpoint)
    key = SM2PublicKey.from_bytes(log.public_key)
    problems = (
        check_inclusion(
            checkpoint,
            key,
            seq,
            record["leaf"],
            [bytes.fromhex(node) for node in proof],
            exact,
            record["integrated_at"],
        )
        if checkpoint is not None
        else [NOT_COVERED]
    )
    ctx.audit("audit.proof", f"log:{name}", detail={"seq": seq, "verified": not problems})
    return {
        "log": name,
        "entry": shown,
        "leaf_hash": record["leaf"].hex(),
        "checkpoint": checkpoint,
        "key_fingerprint": key.fingerprint(),
        "proof": proof,
        "problems": problems,
    }


def export_lines(ctx: Context, params: Mapping[str, Any]) -> Iterator[str]:
    """The matching entries, oldest first, as JSON lines: first the checkpoint document
    (checkpoint and the log's public key), then one line per entry with its leaf hash and
    its inclusion proof against that checkpoint.  Entries newer than the checkpoint are
    left out (nothing proves them yet; the next checkpoint will).

    An entry whose object had to be masked for this reader (H-5.2.3) is exported as shown,
    marked ``"masked": true``: its path to the root still verifies, its content cannot."""
    wanted = parse_filter(ctx, params)
    log = get_log(ctx.conn, wanted.log)
    checkpoint = log.latest_checkpoint()
    if checkpoint is None:
        raise Invalid(FILTER_INVALID, {"log": _("日志尚无已签名的检查点")})
    personal = "certificate.read_personal" in ctx.actor.permissions
    chosen = [seq for seq, _ in _matching(ctx, log, wanted) if seq < checkpoint["size"]]
    if len(chosen) > MAX_EXPORT:
        raise Invalid(
            FILTER_INVALID,
            {
                "from": _(
                    "一次最多导出${max_export}条，请缩小范围", mapping={"max_export": MAX_EXPORT}
                )
            },
        )
    ctx.audit("audit.export", f"log:{wanted.log}", detail={**wanted.query(), "count": len(chosen)})
    public_key = SM2PublicKey.from_bytes(log.public_key).to_pem().decode()
    yield _line({"format": EXPORT_FORMAT, "checkpoint": checkpoint, "public_key_pem": public_key})
    for seq in reversed(chosen):
        record = log.entries[seq]
        exact = entry_dict(record["entry"])
        shown = shown_entry(seq, record, personal)
        line = {
            "seq": seq,
            "integrated_at": record["integrated_at"],
            "entry": {k: v for k, v in shown.items() if k not in ("seq", "integrated_at")},
            "leaf_hash": record["leaf"].hex(),
            "proof": _proof_of(log, seq, checkpoint),
        }
        if line["entry"] != exact:
            line["masked"] = True
        yield _line(line)


def _line(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n"
