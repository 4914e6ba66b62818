"""The message outbox: persistent messages in the main database, and the three steps
each goes through (queued with its change, claimed for an attempt, answered).

A :class:`Message` keeps what identifies and schedules it in clear (id, channel,
template, case, attempts, times, the channel's last answer as a status) and what is
personal only encrypted: the recipient (phone, e-mail address, openid) and the template
parameters (which may hold a download code), each bound to the message id.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

PENDING = "pending"
SENT = "sent"
UNDELIVERABLE = "undeliverable"
CHANNELS = ("sms", "email", "wechat")
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
        }


class Outbox(Persistent):
    """Every message, the due ones in time order, and each case's messages."""

    def __init__(self) -> None:
        self.messages = OOBTree()  # id -> Message
        self.due = OOTreeSet()  # (next attempt ISO time, id) of pending messages
        self.by_case = OOBTree()  # case_no -> tuple of ids (a case has a handful)
        self.undeliverable = OOTreeSet()  # ids, for the registrars' list


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
) -> Message:
    """Queue a message in the caller's transaction; its id is random and never reused."""
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
    outbox.due.add((now.isoformat(), message_id))
    if case_no is not None:
        outbox.by_case[case_no] = (*outbox.by_case.get(case_no, ()), message_id)
    return message


def opened(message: Message, keyring: Any) -> tuple[str, dict[str, Any]]:
    """(recipient, params) of a message, decrypted for sending only."""
    recipient = keyring.decrypt("personal", message.recipient_sealed, _aad(message.id, "to"))
    params = keyring.decrypt("personal", message.params_sealed, _aad(message.id, "params"))
    return recipient.decode(), json.loads(params)


def due_ids(outbox: Outbox, now: datetime, limit: int) -> list[str]:
    """Ids of pending messages whose next attempt has come, oldest first."""
    found = []
    for moment, message_id in outbox.due:
        if moment > now.isoformat() or len(found) >= limit:
            break
        found.append(message_id)
    return found


def _reschedule(outbox: Outbox, message: Message, at: datetime) -> None:
    outbox.due.remove((message.next_attempt_at.isoformat(), message.id))
    message.next_attempt_at = at
    outbox.due.add((at.isoformat(), message.id))


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
    outbox: Outbox, message: Message, accepted: bool, answer: str, now: datetime, give_up: timedelta
) -> None:
    """Record the channel's answer: sent, or left for its next attempt, or — a day after
    it was queued — undeliverable, for the registrars to follow up (Z-4)."""
    message.last_answer = answer
    if accepted:
        outbox.due.remove((message.next_attempt_at.isoformat(), message.id))
        message.state = SENT
        message.sent_at = now
    elif now - message.created_at >= give_up:
        outbox.due.remove((message.next_attempt_at.isoformat(), message.id))
        message.state = UNDELIVERABLE
        outbox.undeliverable.add(message.id)


def of_case(outbox: Outbox, case_no: str) -> Iterator[Message]:
    for message_id in outbox.by_case.get(case_no, ()):
        yield outbox.messages[message_id]
