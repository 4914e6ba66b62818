"""pydantic's errors in the contract's words: ``fields`` maps each bad field's JSON path
to a "中文 / English" problem, the shape every 422 of the API has."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from certarchive.i18n import _
from certarchive.schemas.rules import KNOWN_ERRORS
from certarchive.services.errors import Invalid

Model = TypeVar("Model", bound=BaseModel)
ROOT = "$"  # the path reported when the body itself is not an object

_MESSAGES = {
    "missing": _("必填"),
    "extra_forbidden": _("未知字段"),
    "string_type": _("须为字符串"),
    "dict_type": _("须为JSON对象"),
    "model_type": _("须为JSON对象"),
    "model_attributes_type": _("须为JSON对象"),
    "decimal_parsing": _("须为数字"),
    "decimal_type": _("须为数字"),
    "finite_number": _("须为有限数字"),
    "list_type": _("须为数组"),
    "tuple_type": _("须为数组"),
}


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else part
    return path or ROOT


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "literal_error":
        options = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        return _(
            "须为以下之一：${options_replace}（${options}）",
            mapping={"options_replace": options.replace(", ", "、"), "options": options},
        )
    if kind in ("too_short", "string_too_short"):
        limit = ctx["min_length"]
        if limit == 1:
            return _("必填")
        return _("至少${limit}个字符", mapping={"limit": limit})
    if kind == "too_long" and ctx.get("field_type") in ("List", "Tuple"):
        limit = ctx["max_length"]
        return _("不能超过${limit}项", mapping={"limit": limit})
    if kind in ("too_long", "string_too_long"):
        limit = ctx["max_length"]
        return _("不能超过${limit}个字符", mapping={"limit": limit})
    if kind == "greater_than_equal":
        return _("须不小于${ctx_ge}", mapping={"ctx_ge": ctx["ge"]})
    if kind not in KNOWN_ERRORS:
        return str(error["msg"])  # our own custom errors carry the contract's words
    return _("无效")


def fields_of(invalid: ValidationError) -> dict[str, str]:
    """The contract's ``fields``: each bad field's JSON path (``certificates[0].holders[1]
    .id_number``) to its first problem, in words that never quote the value sent."""
    fields: dict[str, str] = {}
    for error in invalid.errors(include_url=False, include_input=False):
        fields.setdefault(_path(error["loc"]), _message(error))
    return fields


def checked(
    model: type[Model], value: Any, context: dict[str, Any] | None = None
) -> Model | dict[str, str]:
    """``value`` (parsed JSON) as ``model``, or the contract's ``fields`` naming every
    problem (``$`` when ``value`` is not an object)."""
    if not isinstance(value, dict):
        return {ROOT: _MESSAGES["model_type"]}
    try:
        return model.model_validate(value, context=context)
    except ValidationError as invalid:
        return fields_of(invalid)


def validated(model: type[Model], value: Any, message: str) -> Model:
    """``value`` (parsed JSON) as ``model``; else Invalid(``message``) naming every bad
    field."""
    result = checked(model, value)
    if isinstance(result, dict):
        raise Invalid(message, result)
    return result
