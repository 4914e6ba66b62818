"""The channels a message leaves by, each speaking its own published protocol:

- SMS: an HTTP gateway (CONTRACT.md): ``POST`` JSON ``{"id", "to", "template", "params"}``
  with ``Authorization: Bearer KEY``; a 2xx answer accepts, anything else or no answer
  means later, under the same id;
- e-mail: SMTP (``smtplib``), the message id as ``Message-ID`` so a repeat can be dropped;
- WeChat: the official account's template messages: an access token from
  ``GET {api}/cgi-bin/token?grant_type=client_credential&appid=…&secret=…``, cached until
  shortly before ``expires_in`` and renewed when the platform says it is invalid
  (errcode 40001, 40014, 42001), then ``POST {api}/cgi-bin/message/template/send``.

Each ``send`` returns an :class:`Answer` and never raises for a channel's failure; the
answer's text is a status, never the recipient or the parameters.
"""

from __future__ import annotations

import json
import smtplib
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from certarchive.messaging.templates import MessageTemplate

TIMEOUT = 10.0  # seconds: past this an answer counts as lost
TOKEN_MARGIN = 300.0  # renew a WeChat token this many seconds before it runs out
TOKEN_INVALID = {40001, 40014, 42001}
MAX_ANSWER = 64 * 1024  # bytes of a platform's answer read at most


@dataclass(frozen=True)
class Answer:
    accepted: bool
    status: str  # "202", "503", "no answer", "errcode 43004": never personal data
    final: bool = False  # refused as it stands (the library's 4xx): not retried blindly
    said: str | None = None  # the library's refusal, for registrars only (may be personal)


class Channel(Protocol):
    def send(
        self, message_id: str, to: str, template: MessageTemplate, params: dict[str, str]
    ) -> Answer: ...


def _post_json(
    url: str, body: dict[str, Any], headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL the settings checked
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    return fetch(request, timeout)


def fetch(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured http(s) URL
            return response.status, response.read(MAX_ANSWER)
    except urllib.error.HTTPError as error:
        try:
            return error.code, error.read(MAX_ANSWER)
        except OSError:
            return error.code, b""


class SmsGateway:
    def __init__(self, url: str, key: str, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.key = key
        self.timeout = timeout

    def send(
        self, message_id: str, to: str, template: MessageTemplate, params: dict[str, str]
    ) -> Answer:
        body = {"id": message_id, "to": to, "template": template.name, "params": params}
        try:
            headers = {"Authorization": f"Bearer {self.key}"}
            status, _ = _post_json(self.url, body, headers, self.timeout)
        except (OSError, ValueError):
            return Answer(False, "no answer")
        return Answer(200 <= status < 300, str(status))


class Mailer:
    def __init__(self, host: str, port: int, sender: str, timeout: float = TIMEOUT) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def send(
        self, message_id: str, to: str, template: MessageTemplate, params: dict[str, str]
    ) -> Answer:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = template.subject
        mail["Message-ID"] = make_msgid(idstring=message_id, domain="certarchive")
        mail.set_content(template.render(params))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as error:
            return Answer(False, f"smtp {error.smtp_code}")
        except (OSError, smtplib.SMTPException):
            return Answer(False, "no answer")
        return Answer(True, "250")


class WeChat:
    """Template messages of a WeChat official account, to holders bound by openid."""

    def __init__(self, api: str, appid: str, secret: str, timeout: float = TIMEOUT) -> None:
        self.api = api
        self.appid = appid
        self.secret = secret
        self.timeout = timeout
        self._token: tuple[str, float] | None = None  # (token, monotonic time it ends)
        self._lock = threading.Lock()

    def _access_token(self, renew: bool = False) -> str | None:
        with self._lock:
            if self._token and not renew and time.monotonic() < self._token[1]:
                return self._token[0]
            query = urllib.parse.urlencode(
                {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
            )
            try:
                token_url = f"{self.api}/cgi-bin/token?{query}"
                request = urllib.request.Request(token_url)  # noqa: S310 - checked
                status, body = fetch(request, self.timeout)
                answer = json.loads(body) if status == 200 else {}
            except (OSError, ValueError):
                return None
            token, expires = answer.get("access_token"), answer.get("expires_in")
            if not isinstance(token, str) or not isinstance(expires, int):
                return None
            self._token = (token, time.monotonic() + max(expires - TOKEN_MARGIN, 60))
            return token

    def send(
        self, message_id: str, to: str, template: MessageTemplate, params: dict[str, str]
    ) -> Answer:
        body = {
            "touser": to,
            "template_id": template.wechat_template_id,
            "client_msg_id": message_id,
            "data": {
                "first": {"value": template.render(params)},
                **{key: {"value": value} for key, value in params.items()},
            },
        }
        for renew in (False, True):
            token = self._access_token(renew)
            if token is None:
                return Answer(False, "no token")
            url = f"{self.api}/cgi-bin/message/template/send?access_token={token}"
            try:
                status, raw = _post_json(url, body, {}, self.timeout)
                answer = json.loads(raw) if status == 200 else {"errcode": f"http {status}"}
            except (OSError, ValueError):
                return Answer(False, "no answer")
            code = answer.get("errcode")
            if code == 0:
                return Answer(True, "errcode 0")
            if code not in TOKEN_INVALID:
                return Answer(False, f"errcode {code}")
        return Answer(False, "token refused")
