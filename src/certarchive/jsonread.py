"""The one JSON reader for what comes from outside: request bodies and import lines.

Why one reader with limits: ``json.loads`` alone accepts what costs the server or fails
late.  A 5,000-digit integer makes Python's int conversion raise ValueError (its 4,300
digit guard) where a JSONDecodeError was expected, which was a 500; deep nesting costs
recursion; NaN and Infinity are not JSON; a lone surrogate (``"\\ud800"``) parses into a
``str`` that cannot be encoded later.  Here every such input is refused before any
service sees it, with a message a clerk understands and, where it helps, the JSON path
of the bad value.  The limits are settings (docs/operations.md, "Limits").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from certarchive.i18n import _
from certarchive.validation.text import text_problem

#: Defaults of the settings certarchive.json_max_depth and certarchive.json_max_digits.
MAX_DEPTH = 32
MAX_DIGITS = 40


@dataclass(frozen=True)
class JsonLimits:
    max_bytes: int
    max_depth: int = MAX_DEPTH
    max_digits: int = MAX_DIGITS


class JsonRefused(ValueError):
    """Input the reader will not accept.  ``kind`` is ``too_large``, ``invalid`` (not JSON
    at all), ``bad_value`` (JSON, but beyond the depth or digits limit) or ``bad_text`` (a
    string at ``path`` breaks the text rule).  The message never quotes the input."""

    def __init__(self, kind: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.path = path


NOT_JSON = _("不是有效的JSON")
FIELD_NAME = _("字段名")
NOT_UTF8 = _("不是有效的JSON（须为UTF-8编码）")


def _number_parser(kind: type, limits: JsonLimits) -> Any:
    def parse(text: str) -> Any:
        if sum(c.isdigit() for c in text) > limits.max_digits:
            raise JsonRefused(
                "bad_value",
                _("数字超过${max_digits}位", mapping={"max_digits": limits.max_digits}),
            )
        value = kind(text)
        if not math.isfinite(value):  # 1e999 overflows a float to inf
            raise JsonRefused("bad_value", _("数字超出范围"))
        return value

    return parse


def _no_constant(name: str) -> Any:
    raise JsonRefused("invalid", f"{NOT_JSON} ({name})")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_value(value: Any, limits: JsonLimits) -> None:
    """Walk ``value`` (parsed JSON) without recursion: nesting depth and every string and
    key against the text rule; raises JsonRefused naming the first bad path."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limits.max_depth:
                raise JsonRefused(
                    "bad_value",
                    _("嵌套超过${max_depth}层", mapping={"max_depth": limits.max_depth}),
                    path or "$",
                )
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                child_path = _join(path, key)
                if isinstance(key, str) and (problem := text_problem(key)):
                    # the object's path: the bad key itself is not repeated back
                    raise JsonRefused("bad_text", f"{FIELD_NAME}{problem}", path or "$")
                stack.append((child, child_path, depth + 1))
        elif isinstance(item, str) and (problem := text_problem(item)):
            raise JsonRefused("bad_text", problem, path or "$")


def read_json(raw: bytes, limits: JsonLimits) -> Any:
    """``raw`` (UTF-8 JSON) parsed within ``limits``; raises JsonRefused, nothing else."""
    if len(raw) > limits.max_bytes:
        size = limits.max_bytes
        raise JsonRefused("too_large", _("内容过大，上限${size}字节", mapping={"size": size}))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("invalid", NOT_UTF8) from None
    try:
        value = json.loads(
            text,
            parse_int=_number_parser(int, limits),
            parse_float=_number_parser(float, limits),
            parse_constant=_no_constant,
        )
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused(
            "bad_value",
            _("嵌套超过${max_depth}层", mapping={"max_depth": limits.max_depth}),
        ) from None
    except ValueError:  # JSONDecodeError, and any conversion the hooks did not foresee
        raise JsonRefused("invalid", NOT_JSON) from None
    check_value(value, limits)
    return value
