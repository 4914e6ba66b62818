"""The e-licence library's door (CONTRACT.md): ``POST`` of the report as JSON with
``Authorization: Bearer KEY``.  A 2xx accepts; a 4xx refuses this report as it stands
(the library's answer is kept for registrars, the report is not retried blindly); a 5xx
or no answer (refused connection, timeout, a broken answer) means later, same event id.
Nothing here logs: the body holds personal data and the header the key.
"""

from __future__ import annotations

import urllib.request

from certarchive.messaging.channels import Answer, fetch
from certarchive.validation.text import text_problem

MAX_SAID = 2000  # characters of the library's refusal kept for registrars


def _said(raw: bytes) -> str:
    """The library's answer as text a page can show: decoded as it came (never parsed),
    control characters out, cut short."""
    text = raw[: MAX_SAID * 4].decode("utf-8", "replace")
    cleaned = "".join(c if not text_problem(c) else " " for c in text)
    return cleaned[:MAX_SAID].strip()


class LicenceLibrary:
    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.url = url
        self.key = key
        self.timeout = timeout

    def report(self, body: bytes) -> Answer:
        """Post ``body`` (the report as JSON, built once at the claim, so that what the
        sharing log digests is what leaves)."""
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL the settings checked
            self.url,
            data=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.key}",
            },
            method="POST",
        )
        try:
            status, raw = fetch(request, self.timeout)
        except (OSError, ValueError):
            return Answer(False, "no answer")
        if 200 <= status < 300:
            return Answer(True, str(status))
        if 400 <= status < 500:
            return Answer(False, str(status), final=True, said=_said(raw) or str(status))
        return Answer(False, str(status))
