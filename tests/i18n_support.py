"""Reading messages in tests: a message is Chinese in the code, its English in the catalog;
``both`` gives the two as the command line prints them, so one assertion checks both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from certarchive.i18n import bilingual, in_language


def both(fields: dict[str, Any]) -> dict[str, str]:
    """Each problem of a refusal's ``fields`` as ``中文 / English``."""
    return {name: bilingual(problem) for name, problem in fields.items()}


def english(message: Any) -> str:
    return in_language(message, "en")


def both_text(value: Any) -> str:
    """A message (or an exception raised with one) as ``中文 / English``."""
    return bilingual(value)


@contextmanager
def raises_matching(kind: type[BaseException], pattern: str) -> Iterator[Any]:
    """``pytest.raises(kind, match=pattern)`` for refusals that carry a message: the
    pattern is searched in its Chinese and its English (from the catalog)."""
    with pytest.raises(kind) as caught:
        yield caught
    text = bilingual(caught.value)
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"
