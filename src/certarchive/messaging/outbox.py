"""The message outbox: persistent messages in the main database, and the three steps
each goes through (queued with its change, claimed for an attempt, answered).

A :class:`Message` keeps what identifies and schedules it in clear (id, channel,
template, case, attempts, times, the channel's last answer as a status) and what is
personal only encrypted: the recipient (phone, e-mail address, openid) and the template
parameters (which may hold a download code), each bound to the message id.

Reports to the e-licence library (:mod:`certarchive.reporting`) are messages of the
``library`` channel in the same outbox, with three differences the library's contract
asks for: each belongs to a *licence* and is not claimed while an earlier report of the
licence is unsent (:func:`ahead_of`; it is *waiting*), so that a revocation never
overtakes its issuance; a report is never
given up on (a library down for days gets it when it is back); and a report the library
refuses (4xx) is ``refused``, kept with the library's answer (encrypted: it may quote the
entry) until a registrar sends it again.  Their due times have their own index, so that a
backfill of a whole registry does not hold up the messages to holders.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

PENDING = "pending"
SENT = "sent"
UNDELIVERABLE = "undeliverable"
WAITING = "waiting"  # shown for a pending report behind an earlier one of its licence
REFUSED = "refused"  # a report the library refused: shown to registrars, sent again by them
LIBRARY = "library"
CHANNELS = ("sms", "email", "wechat", LIBRARY)
#: Waits between attempts (then the last one repeats), so that a gateway down for a
#: minute is retried soon and one down for hours is not hammered.
BACK_OFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)


class Message(Persistent):
    """One message to one recipient over one channel."""

    licence: str | None = None  # a report's licence (agency and certificate id)
    refusal_sealed: bytes | None = None  # the library's answer to a refused report

    def __init__(
        self,
        message_id: str,
        channel: str,
        template: str,
        recipient_sealed: bytes,
        params_sealed: bytes,
        case_no: str | None,
        created_at: datetime,
    ) -> None:
        self.id = message_id
        self.channel = channel
        self.template = template
        self.recipient_sealed = recipient_sealed
        self.params_sealed = params_sealed
        self.case_no = case_no
        self.created_at = created_at
        self.state = PENDING
        self.attempts = 0
        self.next_attempt_at = created_at
        self.last_answer: str | None = None  # "202", "503", "no answer": never personal data
        self.sent_at: datetime | None = None

    def summary(self) -> dict[str, Any]:
        """What registrars see on the case page: no recipient, no parameters."""
        return {
            "id": self.id,
            "channel": self.channel,
            "template": self.template,
            "state": self.state,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_answer": self.last_answer,
            "licence": self.licence,
        }


class Outbox(Persistent):
    """Every message, the due ones in time order, and each case's messages."""

    def __init__(self) -> None:
        self.messages = OOBTree()  # id -> Message
        self.due = OOTreeSet()  # (next attempt ISO time, id) of pending messages
        self.by_case = OOBTree()  # case_no -> tuple of ids (a case has a handful)
        self.undeliverable = OOTreeSet()  # ids, for the registrars' list
        self.add_reports()

    def add_reports(self) -> None:
        """The indexes of reports to the e-licence library (evolve step ``library-reports``
        for outboxes made before them)."""
        self.reports_due = OOTreeSet()  # (next attempt ISO time, id) of due reports
        self.by_licence = OOBTree()  # licence -> tuple of its reports' ids, in order
        self.refused = OOTreeSet()  # ids of refused reports
        self.reports_sent_at = OOTreeSet()  # (-sent POSIX time, id): the latest first
        self.report_counts = OOBTree()  # (agency, "queued" | "sent") -> Length: no scans


def _count(outbox: Outbox, licence: str, kind: str) -> None:
    """One more report queued or sent for the licence's agency (a ``Length``, whose
    conflict resolution lets concurrent issuances count without retrying)."""
    key = (licence.split(":", 1)[0], kind)
    counter = outbox.report_counts.get(key)
    if counter is None:
        counter = outbox.report_counts[key] = Length()
    counter.change(1)


def report_count(outbox: Outbox, agency: str, kind: str) -> int:
    counter = outbox.report_counts.get((agency, kind))
    return counter() if counter is not None else 0


def _aad(message_id: str, part: str) -> bytes:
    return f"message:{message_id}:{part}".encode()


def enqueue(
    outbox: Outbox,
    keyring: Any,
    *,
    channel: str,
    template: str,
    recipient: str,
    params: dict[str, Any],
    case_no: str | None,
    now: datetime,
    licence: str | None = None,
) -> Message:
    """Queue a message in the caller's transaction; its id is random and never reused.
    A report (``licence`` given) is appended to its licence's order."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    message_id = secrets.token_hex(16)
    message = Message(
        message_id,
        channel,
        template,
        keyring.encrypt("personal", recipient.encode(), _aad(message_id, "to")),
        keyring.encrypt(
            "personal",
            json.dumps(params, ensure_ascii=False, sort_keys=True).encode(),
            _aad(message_id, "params"),
        ),
        case_no,
        now,
    )
    outbox.messages[message_id] = message
    if licence is not None:
        message.licence = licence
        outbox.by_licence[licence] = (*outbox.by_licence.get(licence, ()), message_id)
        _count(outbox, licence, "queued")
    _due_of(outbox, message).add((now.isoformat(), message_id))
    if case_no is not None:
        outbox.by_case[case_no] = (*outbox.by_case.get(case_no, ()), message_id)
    return message


def opened(message: Message, keyring: Any) -> tuple[str, dict[str, Any]]:
    """(recipient, params) of a message, decrypted for sending only."""
    recipient = keyring.decrypt("personal", message.recipient_sealed, _aad(message.id, "to"))
    params = keyring.decrypt("personal", message.params_sealed, _aad(message.id, "params"))
    return recipient.decode(), json.loads(params)


def sealed_refusal(keyring: Any, message_id: str, said: str) -> bytes:
    """The library's answer to a refused report, encrypted: it may quote the entry."""
    return keyring.encrypt("personal", said.encode(), _aad(message_id, "refusal"))


def refusal_of(message: Message, keyring: Any) -> str | None:
    """What the library said when it refused the report, for the registrars' page."""
    if message.refusal_sealed is None:
        return None
    return keyring.decrypt("personal", message.refusal_sealed, _aad(message.id, "refusal")).decode()


def _due_of(outbox: Outbox, message: Message) -> OOTreeSet:
    return outbox.reports_due if message.licence is not None else outbox.due


def due_ids(outbox: Outbox, now: datetime, limit: int, reports: bool = False) -> list[str]:
    """Ids of pending messages (or reports) whose next attempt has come, oldest first."""
    found = []
    for moment, message_id in outbox.reports_due if reports else outbox.due:
        if moment > now.isoformat() or len(found) >= limit:
            break
        found.append(message_id)
    return found


def _reschedule(outbox: Outbox, message: Message, at: datetime) -> None:
    due = _due_of(outbox, message)
    due.remove((message.next_attempt_at.isoformat(), message.id))
    message.next_attempt_at = at
    due.add((at.isoformat(), message.id))


def claim(outbox: Outbox, message: Message, now: datetime) -> None:
    """Count an attempt and set the next one before sending: a process that stops after
    sending and before :func:`answered` tries again then, under the same id."""
    message.attempts += 1
    wait = BACK_OFF[min(message.attempts, len(BACK_OFF)) - 1]
    _reschedule(outbox, message, now + wait)


def defer(outbox: Outbox, message: Message, until: datetime) -> None:
    """Not sent now (a rate limit): try at ``until``, not counting an attempt."""
    _reschedule(outbox, message, until)


def answered(
    outbox: Outbox,
    message: Message,
    accepted: bool,
    answer: str,
    now: datetime,
    give_up: timedelta | None,
) -> None:
    """Record the channel's answer: sent, or left for its next attempt, or — ``give_up``
    after it was queued — undeliverable, for the registrars to follow up (Z-4).  Reports
    are never given up on (``give_up`` None); a sent report lets its licence's next go."""
    message.last_answer = answer
    if accepted:
        _due_of(outbox, message).remove((message.next_attempt_at.isoformat(), message.id))
        message.state = SENT
        message.sent_at = now
        if message.licence is not None:
            _count(outbox, message.licence, "sent")
            outbox.reports_sent_at.add((-now.timestamp(), message.id))
            _release_next(outbox, message.licence, now)
    elif give_up is not None and now - message.created_at >= give_up:
        outbox.due.remove((message.next_attempt_at.isoformat(), message.id))
        message.state = UNDELIVERABLE
        outbox.undeliverable.add(message.id)


def ahead_of(outbox: Outbox, message: Message) -> Message | None:
    """The licence's first report before ``message`` not yet sent, if any.

    Decided when a report is claimed, from what is committed then, rather than stored
    when it is queued: an issuance committing while the courier records its licence's
    previous report accepted cannot then leave the new report waiting for ever."""
    for other_id in outbox.by_licence.get(message.licence, ()):
        if other_id == message.id:
            return None
        other = outbox.messages[other_id]
        if other.state != SENT:
            return other
    return None


def _release_next(outbox: Outbox, licence: str, now: datetime) -> None:
    """The licence's next report, deferred behind the one just sent, is due now."""
    for other_id in outbox.by_licence.get(licence, ()):
        other = outbox.messages[other_id]
        if other.state == PENDING:
            if other.next_attempt_at > now:
                _reschedule(outbox, other, now)
            return
        if other.state != SENT:
            return


def refuse(outbox: Outbox, message: Message, answer: str, said_sealed: bytes | None) -> None:
    """The library refused the report (4xx), or it could not be built: it stops being
    attempted, and its licence's later reports keep waiting behind it."""
    _due_of(outbox, message).remove((message.next_attempt_at.isoformat(), message.id))
    message.state = REFUSED
    message.last_answer = answer
    message.refusal_sealed = said_sealed
    outbox.refused.add(message.id)


def send_again(outbox: Outbox, message: Message, now: datetime) -> None:
    """A registrar corrected what was refused: the report is due now, under its id."""
    outbox.refused.remove(message.id)
    message.state = PENDING
    message.refusal_sealed = None
    message.next_attempt_at = now
    outbox.reports_due.add((now.isoformat(), message.id))


def of_case(outbox: Outbox, case_no: str) -> Iterator[Message]:
    for message_id in outbox.by_case.get(case_no, ()):
        yield outbox.messages[message_id]
