"""Audit services: sequence and checkpoint the logs, verify them, read them for auditors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from certarchive.audit.log import AppendOnlyLog, get_log, signing_key
from certarchive.audit.queue import LOG_NAMES, entry_dict, get_outbox
from certarchive.audit.verify import LogReport, load_checkpoint_file, verify_log
from certarchive.crypto.sm import SM2PublicKey
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.services.permissions import SYSTEM
from certarchive.validation.identifiers import mask_identifiers_in

if TYPE_CHECKING:
    from certarchive.services.runtime import Runner

MAX_ENTRIES = 1000  # entries per read: a page an auditor's tool can hold and we can serve
MAX_SEQ = 2**31 - 1  # the logs' IOBTrees take 32-bit keys: a larger one is a TypeError


def _log_name(name: str) -> str:
    if name not in LOG_NAMES:
        raise NotFound(
            _("日志不存在（${log_names_join}）", mapping={"log_names_join": " | ".join(LOG_NAMES)})
        )
    return name


def _whole_number(value: Any) -> int | None:
    """``value`` as an int if it is one or the decimal text of one (a query parameter)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _numbers(ranges: Mapping[str, tuple[Any, int, int]]) -> dict[str, int]:
    """Each ``name: (value, low, high)`` as an int within [low, high]; otherwise Invalid
    naming every bad one, so a caller fixes them all at once."""
    numbers: dict[str, int] = {}
    problems: dict[str, str] = {}
    for name, (value, low, high) in ranges.items():
        number = _whole_number(value)
        if number is None or not low <= number <= high:
            problems[name] = _("须为${low}至${high}的整数", mapping={"low": low, "high": high})
        else:
            numbers[name] = number
    if problems:
        raise Invalid(_("参数无效"), problems)
    return numbers


#: Entries of one log sequenced in one transaction.  A registry that has just imported a
#: million paper-era certificates holds millions of queued entries; one transaction over
#: all of them would hold every one in memory and write them in one commit.
SEQUENCE_BATCH = 20_000


def integrate_logs(ctx: Context) -> dict[str, dict[str, Any] | None]:
    """Sequence the queued entries of both logs, at most :data:`SEQUENCE_BATCH` of each,
    and sign a checkpoint for each that grew.

    Writes the logs' databases only: the outbox in the main database is read here and
    emptied by :func:`remove_moved`, a transaction of its own (see
    :meth:`AppendOnlyLog.integrate`)."""
    outbox = get_outbox(ctx.conn)
    checkpoints = {}
    for name in LOG_NAMES:
        log = get_log(ctx.conn, name)
        checkpoints[name] = log.integrate(
            signing_key(log, ctx.keyring), ctx.now(), outbox, SEQUENCE_BATCH
        )
    return checkpoints


def remove_moved(ctx: Context) -> int:
    """Delete from the outbox the entries the logs have sequenced; writes the main
    database only.  Returns how many were deleted."""
    outbox = get_outbox(ctx.conn)
    return sum(outbox.remove(name, get_log(ctx.conn, name).moved or ()) for name in LOG_NAMES)


def sequence_logs(runtime: Runner) -> dict[str, dict[str, Any] | None]:
    """Move every queued entry into its log and sign checkpoints, in batches of
    :data:`SEQUENCE_BATCH`: the two transactions of :func:`integrate_logs` and
    :func:`remove_moved`, each retried on conflict, until nothing is left.  Returns the
    newest checkpoint of each log (None for a log that did not grow)."""
    sizes = runtime.run(_log_sizes, SYSTEM)
    newest: dict[str, dict[str, Any] | None] = dict.fromkeys(LOG_NAMES)
    while True:
        checkpoints = runtime.run(integrate_logs, SYSTEM)
        runtime.run(remove_moved, SYSTEM)
        batch_full = False
        for name, found in checkpoints.items():
            if found:
                batch_full |= found["size"] - sizes[name] >= SEQUENCE_BATCH
                sizes[name], newest[name] = found["size"], found
        if not batch_full:
            return newest


def _log_sizes(ctx: Context) -> dict[str, int]:
    return {name: get_log(ctx.conn, name).size for name in LOG_NAMES}


def checkpoint_document(ctx: Context, name: str) -> dict[str, Any]:
    """The newest checkpoint with the log's public key: what an auditor keeps outside."""
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    checkpoint = log.latest_checkpoint()
    return {
        "checkpoint": checkpoint,
        "public_key_pem": SM2PublicKey.from_bytes(log.public_key).to_pem().decode(),
    }


def verify(ctx: Context, name: str, external_text: str | None = None) -> LogReport:
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    outbox = get_outbox(ctx.conn)
    if external_text is None:
        return verify_log(log, outbox=outbox)
    try:
        external, key = load_checkpoint_file(external_text)
    except (ValueError, TypeError):
        raise Invalid(_("检查点文件无效"), {"checkpoint": "JSON from `audit checkpoint`"}) from None
    return verify_log(log, external, key, outbox)


def entries(ctx: Context, name: str, start: Any = 0, limit: Any = 100) -> list[dict[str, Any]]:
    """Sequenced entries from ``start``, at most ``limit`` (1..MAX_ENTRIES).

    Entries name objects by serial or id and states by digest, so they hold no personal data
    by construction, except one field: ``object`` of a refused or shared call is taken from
    the URL the caller typed, which may hold an ID number or a phone number instead of a
    serial.  :meth:`Context.audit` masks those before they are written; a log kept from
    before it did holds them as typed, and they cannot be rewritten (the Merkle tree covers
    them), so callers without the right to read personal data get them masked here as well
    (H-5.2.3).  The system (``audit export``) gets the entries as they are hashed.
    """
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    wanted = _numbers({"start": (start, 0, MAX_SEQ), "limit": (limit, 1, MAX_ENTRIES)})
    first = wanted["start"]
    last = min(first + wanted["limit"] - 1, MAX_SEQ)
    personal = "certificate.read_personal" in ctx.actor.permissions
    return [shown_entry(seq, record, personal) for seq, record in log.entries.items(first, last)]


def shown_entry(seq: int, record: Mapping[str, Any], personal: bool) -> dict[str, Any]:
    """A sequenced entry as a reader sees it: ``object`` masked unless ``personal``."""
    entry = {"seq": seq, "integrated_at": record["integrated_at"]}
    entry.update(entry_dict(record["entry"]))
    if not personal and isinstance(entry.get("object"), str):
        entry["object"] = mask_identifiers_in(entry["object"])
    return entry


def read_entries(ctx: Context, name: str, start: Any = 0, limit: Any = 100) -> dict[str, Any]:
    """An auditor's page of the log, itself audited (H-5.2.4) as reads of scanned documents
    are: who read which part of which log is traceable too."""
    page = entries(ctx, name, start, limit)
    log = get_log(ctx.conn, name)
    ctx.audit(
        "audit.read",
        f"log:{name}",
        detail={"start": _whole_number(start), "count": len(page)},
    )
    return {"log": name, "size": log.size, "entries": page}


def _sequenced(log: AppendOnlyLog) -> int:
    """The log's sequenced size; a proof needs at least one sequenced entry."""
    if log.size == 0:
        raise Conflict(_("日志尚无已排序的条目"))
    return log.size


def _within(size: Any, total: int) -> int:
    """``size`` if it is a valid tree size of the log, else the whole log: the bound that
    the other parameter is checked against, so both can be named in one answer."""
    number = _whole_number(size)
    return number if number is not None and 1 <= number <= total else total


def inclusion_proof(ctx: Context, name: str, seq: Any, size: Any = None) -> dict[str, Any]:
    """RFC 6962 audit path of entry ``seq`` in the tree of the first ``size`` entries
    (default: the whole sequenced log, the newest checkpoint's size).

    The caller recomputes the entry's leaf from the entry it read and checks the path
    against the root of a signed checkpoint of that size it holds.
    """
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    total = _sequenced(log)
    size = total if size is None else size
    checked = _numbers({"size": (size, 1, total), "seq": (seq, 0, _within(size, total) - 1)})
    index, tree_size = checked["seq"], checked["size"]
    return {
        "log": name,
        "seq": index,
        "size": tree_size,
        "leaf_hash": log.entries[index]["leaf"].hex(),
        "proof": [node.hex() for node in log.inclusion_proof(index, tree_size)],
    }


def consistency_proof(ctx: Context, name: str, first: Any, second: Any = None) -> dict[str, Any]:
    """RFC 6962 proof that the tree of ``first`` entries is a prefix of the tree of
    ``second`` (default: the whole sequenced log): an auditor's kept checkpoint still
    stands inside today's log."""
    ctx.require("audit.read")
    log = get_log(ctx.conn, _log_name(name))
    total = _sequenced(log)
    second = total if second is None else second
    checked = _numbers({"first": (first, 1, _within(second, total)), "second": (second, 1, total)})
    older, newer = checked["first"], checked["second"]
    return {
        "log": name,
        "first": older,
        "second": newer,
        "proof": [node.hex() for node in log.consistency_proof(older, newer)],
    }
