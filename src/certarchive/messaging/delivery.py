"""Delivering due messages: claim in one transaction, send outside any, record the answer
in another (see the package's docstring for why that order repeats a message only where
its answer was lost).

The serving process's background thread calls :meth:`Courier.deliver_due` every few
seconds.  Rate limits (per recipient per hour, and per minute for the process) defer a
message without counting an attempt.  Every claim and every answer is audited, naming
the message by id and channel only.

Reports to the e-licence library (:mod:`certarchive.reporting`) go through the same
rounds, from their own due index, without the holders' rate limits: the catalogue entry
is built and validated when the report is claimed (one that cannot be built is refused
there, naming the missing items), sent outside any transaction, and its answer recorded
with the others; what left is written to the sharing log (size and SM3 of the body, the
event id and the status: what the library received can be matched, nothing personal is
copied into the log).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from certarchive.crypto.sm import sm3_hex
from certarchive.i18n import _, bilingual
from certarchive.messaging.channels import Answer, Channel, Mailer, SmsGateway, WeChat
from certarchive.messaging.outbox import (
    BACK_OFF,
    LIBRARY,
    PENDING,
    REFUSED,
    SENT,
    UNDELIVERABLE,
    Message,
    Outbox,
    ahead_of,
    answered,
    claim,
    defer,
    due_ids,
    opened,
    refuse,
    sealed_refusal,
)
from certarchive.messaging.settings import MessagingSettings
from certarchive.messaging.templates import MessageTemplate, load_templates
from certarchive.services.context import Context, utc_now
from certarchive.services.permissions import SYSTEM
from certarchive.services.ratelimit import RateLimiter

BATCH = 50  # messages claimed in one round: one short transaction
#: Reports claimed in one round: a library that answers nothing holds a round up for at
#: most this many timeouts; a backfill drains at this many per round.
REPORT_BATCH = 20
#: How long a report behind a refused one waits before it looks again (sending the
#: refused one again, once accepted, makes it due at once).
WAIT = BACK_OFF[-1]
DRAIN_SECONDS = 10.0  # at most this long in rounds of :meth:`Courier.deliver` at a time
NOT_TRIED = "not tried: the library did not take the previous report"


def channels_of(settings: MessagingSettings) -> dict[str, Channel]:
    """The configured channels, by name."""
    found: dict[str, Channel] = {}
    if settings.sms_gateway and settings.sms_gateway_key:
        found["sms"] = SmsGateway(settings.sms_gateway, settings.sms_gateway_key, settings.timeout)
    if settings.smtp_host and settings.mail_from:
        found["email"] = Mailer(
            settings.smtp_host, settings.smtp_port, settings.mail_from, settings.timeout
        )
    if settings.wechat_api and settings.wechat_appid and settings.wechat_secret:
        found["wechat"] = WeChat(
            settings.wechat_api, settings.wechat_appid, settings.wechat_secret, settings.timeout
        )
    return found


@dataclass(frozen=True)
class _Claimed:
    message_id: str
    channel: str
    to: str
    template: str
    params: dict[str, str]
    report: bytes | None = None  # a report's body, JSON, built and validated at the claim


def outbox_of(ctx: Context) -> Outbox:
    return ctx.registry.messages


class Courier:
    """Delivers one process's share of due messages and reports."""

    def __init__(
        self,
        runtime: Any,
        settings: MessagingSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        from certarchive.reporting.channel import LicenceLibrary  # (a cycle)

        self.runtime = runtime
        self.settings = settings
        self.clock = clock
        self.channels = channels_of(settings)
        reporting = runtime.settings.reporting
        self.library = (
            LicenceLibrary(reporting.url, reporting.key, reporting.timeout)
            if reporting.configured
            else None
        )
        self.templates: dict[str, MessageTemplate] = load_templates(settings.templates)
        self.per_recipient = RateLimiter(settings.per_phone_per_hour, 3600)
        self.overall = RateLimiter(settings.per_minute, 60)

    def deliver(self, budget: float = DRAIN_SECONDS) -> dict[str, int]:
        """Rounds while the last one was full and the budget (seconds) lasts: a backfill
        of many reports drains at the library's pace, not one batch per interval, and the
        serving loop gets its turn again (the logs' sequencing) within the budget."""
        deadline = time.monotonic() + budget
        total: dict[str, int] = {}
        while True:
            counts = self.deliver_due()
            for outcome, count in counts.items():
                total[outcome] = total.get(outcome, 0) + count
            if counts.get("sent", 0) < REPORT_BATCH or time.monotonic() >= deadline:
                return total

    def deliver_due(self) -> dict[str, int]:
        """One round: claim what is due, send it, record the answers; the counts."""
        claimed = self.runtime.run(self._claim, SYSTEM, self.clock())
        answers: dict[str, Answer] = {}
        sizes: dict[str, dict[str, Any]] = {}  # what left, per report, for the sharing log
        library_down = False
        for item in claimed:
            if item.report is None:
                channel = self.channels[item.channel]
                template = self.templates[item.template]
                answers[item.message_id] = channel.send(
                    item.message_id, item.to, template, item.params
                )
            elif library_down:  # one timeout per round, not one per report, in an outage
                answers[item.message_id] = Answer(False, NOT_TRIED)
            else:
                assert self.library is not None
                answer = answers[item.message_id] = self.library.report(item.report)
                sizes[item.message_id] = {"size": len(item.report), "sm3": sm3_hex(item.report)}
                library_down = not answer.accepted and not answer.final
        if not answers:
            return {}
        return self.runtime.run(self._record, SYSTEM, answers, self.clock(), sizes)

    def _claim(self, ctx: Context, now: datetime) -> list[_Claimed]:
        outbox = outbox_of(ctx)
        claimed = []
        for message_id in due_ids(outbox, now, BATCH):
            message = outbox.messages[message_id]
            if message.channel not in self.channels:
                continue  # its channel was configured when it was queued: wait for it again
            to, params = opened(message, ctx.keyring)
            recipient = ctx.keyring.blind_index(f"message-to:{to}")
            for limiter, key in ((self.overall, "all"), (self.per_recipient, recipient)):
                decision = limiter.hit(key)
                if not decision.allowed:
                    defer(outbox, message, now + timedelta(seconds=decision.retry_after))
                    break
            else:
                claim(outbox, message, now)
                ctx.audit(
                    "message.attempt",
                    f"message:{message_id}",
                    detail={"channel": message.channel, "attempt": message.attempts},
                )
                claimed.append(_Claimed(message_id, message.channel, to, message.template, params))
        if self.library is not None:
            claimed.extend(self._claim_reports(ctx, outbox, now))
        return claimed

    def _claim_reports(self, ctx: Context, outbox: Outbox, now: datetime) -> list[_Claimed]:
        from certarchive.reporting.catalogue import EntryIncomplete, build_report  # (a cycle)

        claimed = []
        for message_id in due_ids(outbox, now, REPORT_BATCH, reports=True):
            message = outbox.messages[message_id]
            earlier = ahead_of(outbox, message)
            if earlier is not None:  # in order per licence: after the earlier one
                later = earlier.next_attempt_at if earlier.state == PENDING else now + WAIT
                defer(outbox, message, max(later, now) + timedelta(seconds=1))
                continue
            _library, reference = opened(message, ctx.keyring)
            try:
                body = build_report(ctx, message_id, reference)
            except EntryIncomplete as incomplete:
                said = bilingual(
                    _("登记簿缺少或不符：${problems}", mapping={"problems": incomplete})
                )
                refuse(outbox, message, "incomplete", sealed_refusal(ctx.keyring, message_id, said))
                ctx.audit(
                    "report.refused",
                    f"report:{message_id}",
                    result="refused",
                    detail={"event": message.template, "answer": "incomplete"},
                )
                continue
            claim(outbox, message, now)
            ctx.audit(
                "report.attempt",
                f"report:{message_id}",
                detail={"event": message.template, "attempt": message.attempts},
            )
            report = json.dumps(body, ensure_ascii=False).encode()
            claimed.append(_Claimed(message_id, LIBRARY, LIBRARY, message.template, {}, report))
        return claimed

    def _record(
        self,
        ctx: Context,
        answers: dict[str, Answer],
        now: datetime,
        sizes: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, int]:
        outbox = outbox_of(ctx)
        give_up = timedelta(hours=self.settings.give_up_after_hours)
        counts = {"sent": 0, "retry": 0, "undeliverable": 0}
        for message_id, answer in answers.items():
            message = outbox.messages[message_id]
            if message.channel == LIBRARY:
                outcome = self._record_report(ctx, outbox, message, answer, now, sizes or {})
                counts[outcome] = counts.get(outcome, 0) + 1
                continue
            answered(outbox, message, answer.accepted, answer.status, now, give_up)
            outcome = {SENT: "sent", UNDELIVERABLE: "undeliverable"}.get(message.state, "retry")
            counts[outcome] += 1
            ctx.audit(
                f"message.{outcome}",
                f"message:{message_id}",
                result="ok" if outcome == "sent" else "refused",
                detail={"channel": message.channel, "answer": answer.status},
            )
        return counts

    def _record_report(
        self,
        ctx: Context,
        outbox: Outbox,
        message: Message,
        answer: Answer,
        now: datetime,
        sizes: dict[str, dict[str, Any]],
    ) -> str:
        if answer.final:
            said = sealed_refusal(ctx.keyring, message.id, answer.said or answer.status)
            refuse(outbox, message, answer.status, said)
        else:
            answered(outbox, message, answer.accepted, answer.status, now, None)
        outcome = {SENT: "sent", REFUSED: "refused"}.get(message.state, "retry")
        result = "ok" if outcome == "sent" else "refused"
        detail = {"event": message.template, "licence": message.licence, "answer": answer.status}
        ctx.audit(f"report.{outcome}", f"report:{message.id}", result=result, detail=detail)
        if message.id not in sizes:
            return outcome  # not sent this round: nothing left
        ctx.audit(
            "report.leave",
            f"report:{message.id}",
            result=result,
            detail=detail | {"to": "licence_library", **sizes.get(message.id, {})},
            log="sharing",
        )
        return outcome
