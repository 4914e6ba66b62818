"""Field types shared by the request bodies: texts under the one text rule, ISO times."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from certarchive.i18n import _
from certarchive.validation.text import text_problem

NOT_STRING = _("须为字符串")
AWARE_TIME = _("须为带时区的ISO 8601时间")


def _text(value: object) -> str:
    """Texts arrive as JSON strings (not 5, not a list) and obey the text rule; stripped,
    as stored.  Checked before pydantic's own string check, which knows no control
    characters and reports a lone surrogate in words of its own."""
    if not isinstance(value, str):
        raise PydanticCustomError("text_type", NOT_STRING)
    problem = text_problem(value)
    if problem:
        raise PydanticCustomError("text_rule", problem)
    return value.strip()


def Text(max_length: int, min_length: int = 1) -> object:
    """A string, stripped, ``min_length``..``max_length`` characters, under the text rule
    (:mod:`certarchive.validation.text`)."""
    return Annotated[
        str, BeforeValidator(_text), Field(min_length=min_length, max_length=max_length)
    ]


def _aware_time(value: object) -> str:
    """An ISO 8601 time with a zone, kept as the string's normal form."""
    if not isinstance(value, str):
        raise PydanticCustomError("aware_time", AWARE_TIME)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("aware_time", AWARE_TIME) from None
    if moment.tzinfo is None:
        raise PydanticCustomError("aware_time", AWARE_TIME)
    return moment.isoformat()


AwareTime = Annotated[
    str, Field(json_schema_extra={"format": "date-time"}), BeforeValidator(_aware_time)
]
