"""The one rule every text from outside must pass: no lone surrogates, no control characters.

Why here and once: a JSON string may carry ``\\ud800`` (a lone UTF-16 surrogate), which
Python keeps in a ``str`` but cannot encode as UTF-8, so such a value passed validation
and failed later, when it was encrypted, hashed or written into a PDF (a 500, H-5.2.3).
Control characters (C0 but tab, line feed and carriage return; DEL; C1) have no place in
a certificate or a reason, can forge log lines and are invisible to the clerk reading
them.  The JSON reader (:mod:`certarchive.jsonread`) applies the rule to every string and
key of every body; the field validators (:mod:`.case`, the request bodies of
:mod:`certarchive.schemas`) apply it again, so that callers who build values in Python
are held to it too.
"""

from __future__ import annotations

import re

from certarchive.i18n import _

#: What no text may contain: C0 controls but \t \n \r, DEL and C1, and lone surrogates.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

SURROGATE = _("含有无效字符（孤立代理项）")
CONTROL = _("含有控制字符")


def text_problem(text: str) -> str | None:
    """Why ``text`` may not be stored ("中文 / English"), or None when it may."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return SURROGATE if "\ud800" <= found.group() <= "\udfff" else CONTROL
