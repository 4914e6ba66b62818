"""Reading messages in tests: a message is Chinese in the code, its English in the catalog;
``both`` gives the two as the command line prints them, so one assertion checks both."""

from __future__ import annotations

from typing import Any

from certarchive.i18n import bilingual, in_language


def both(fields: dict[str, Any]) -> dict[str, str]:
    """Each problem of a refusal's ``fields`` as ``中文 / English``."""
    return {name: bilingual(problem) for name, problem in fields.items()}


def english(message: Any) -> str:
    return in_language(message, "en")
