"""Delivering due messages: claim in one transaction, send outside any, record the answer
in another (see the package's docstring for why that order repeats a message only where
its answer was lost).

The serving process's background thread calls :meth:`Courier.deliver_due` every few
seconds.  Rate limits (per recipient per hour, and per minute for the process) defer a
message without counting an attempt.  Every claim and every answer is audited, naming
the message by id and channel only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from certarchive.messaging.channels import Channel, Mailer, SmsGateway, WeChat
from certarchive.messaging.outbox import (
    SENT,
    UNDELIVERABLE,
    Outbox,
    answered,
    claim,
    defer,
    due_ids,
    opened,
)
from certarchive.messaging.settings import MessagingSettings
from certarchive.messaging.templates import MessageTemplate, load_templates
from certarchive.services.context import Context, utc_now
from certarchive.services.permissions import SYSTEM
from certarchive.services.ratelimit import RateLimiter

BATCH = 50  # messages claimed in one round: one short transaction


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


def outbox_of(ctx: Context) -> Outbox:
    return ctx.registry.messages


class Courier:
    """Delivers one process's share of due messages."""

    def __init__(
        self,
        runtime: Any,
        settings: MessagingSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.clock = clock
        self.channels = channels_of(settings)
        self.templates: dict[str, MessageTemplate] = load_templates(settings.templates)
        self.per_recipient = RateLimiter(settings.per_phone_per_hour, 3600)
        self.overall = RateLimiter(settings.per_minute, 60)

    def deliver_due(self) -> dict[str, int]:
        """One round: claim what is due, send it, record the answers; the counts."""
        claimed = self.runtime.run(self._claim, SYSTEM, self.clock())
        answers = {
            item.message_id: self.channels[item.channel].send(
                item.message_id, item.to, self.templates[item.template], item.params
            )
            for item in claimed
        }
        return self.runtime.run(self._record, SYSTEM, answers, self.clock()) if answers else {}

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
        return claimed

    def _record(self, ctx: Context, answers: dict[str, Any], now: datetime) -> dict[str, int]:
        outbox = outbox_of(ctx)
        give_up = timedelta(hours=self.settings.give_up_after_hours)
        counts = {"sent": 0, "retry": 0, "undeliverable": 0}
        for message_id, answer in answers.items():
            message = outbox.messages[message_id]
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
