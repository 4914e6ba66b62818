"""Documents whose rules span several fields, checked in the same pass as the fields.

Why this base exists: pydantic runs a model's ``after`` validators only when every field is
valid, but the contract (Z-1) names every bad field in one answer, cross-field rules
included: a case with a bad case number must still report a share missing under 按份共有,
and a holder with a bad phone must still have its ID number checked.  A :class:`Checked`
model therefore runs pydantic's own validation, and then its :meth:`Checked.rules` over
the values that did validate (each field, and each item of a list, validated on its own
when the whole failed), and raises one ``ValidationError`` holding both, with the
``loc`` paths :func:`certarchive.schemas.errors.fields_of` turns into ``fields``.

The case documents' conventions live here too: null, a blank string and an empty list
count as absent in a declared field (upstream systems send all three for "nothing"),
unknown fields are refused whatever their value, and validated documents cannot change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

#: The error types pydantic knows; any other type is one of ours and carries its words.
KNOWN_ERRORS = frozenset(get_args(ErrorType))
RULE = "rule"  # the error type of a broken cross-field rule

Problem = tuple[tuple[int | str, ...], str]  # (loc relative to the model, message)


def is_absent(value: object) -> bool:
    """null, a blank string and an empty list mean "not given"."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def line_error(error: Mapping[str, Any]) -> InitErrorDetails:
    """One error of ``ValidationError.errors()`` as it can be raised again."""
    kind = error["type"]
    ctx = error.get("ctx")
    details: dict[str, Any] = {"loc": tuple(error["loc"]), "input": error.get("input")}
    if kind in KNOWN_ERRORS:
        details["type"] = kind
        if ctx:
            details["ctx"] = ctx
    else:
        details["type"] = PydanticCustomError(kind, error["msg"])
    return details  # type: ignore[return-value]


def rule_error(loc: tuple[int | str, ...], message: str) -> InitErrorDetails:
    """A broken rule at ``loc`` with its "中文 / English" message."""
    return {"type": PydanticCustomError(RULE, message), "loc": loc, "input": None}


@cache
def _adapter(model: type[BaseModel], name: str, item: bool) -> TypeAdapter[Any]:
    """The declared type of field ``name`` (or of its items), to validate it on its own."""
    field = model.model_fields[name]
    if item:
        return TypeAdapter(get_args(field.annotation)[0])
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)])  # type: ignore[misc]


def _is_list(model: type[BaseModel], name: str) -> bool:
    return get_origin(model.model_fields[name].annotation) is tuple


def _valid(adapter: TypeAdapter[Any], raw: Any, context: Any) -> Any:
    try:
        return adapter.validate_python(raw, context=context)
    except ValidationError:
        return None


class Partial(Mapping[str, Any]):
    """The fields of a document that failed, each validated on its own: its value, or
    None when absent or bad; a list field gives each item or None (None for the whole
    when it is not a list or too long)."""

    def __init__(self, model: type[BaseModel], data: dict[str, Any], context: Any) -> None:
        self._model, self._data, self._context = model, data, context
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = self._validate(name)
        return self._values[name]

    def _validate(self, name: str) -> Any:
        raw = self._data.get(name)
        if raw is None:
            return None
        if not _is_list(self._model, name):
            return _valid(_adapter(self._model, name, False), raw, self._context)
        if not isinstance(raw, list):
            return None
        whole = self._model.model_fields[name].metadata
        limit = next((m.max_length for m in whole if hasattr(m, "max_length")), None)
        if limit is not None and len(raw) > limit:
            return None
        item = _adapter(self._model, name, True)
        return tuple(_valid(item, value, self._context) for value in raw)

    def __iter__(self) -> Iterator[str]:
        return iter(self._model.model_fields)

    def __len__(self) -> int:
        return len(self._model.model_fields)


class Checked(BaseModel):
    """A document checked whole: fields by pydantic, cross-field rules by :meth:`rules`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __setattr__(self, name: str, value: Any) -> None:
        """Frozen as a frozen dataclass is (AttributeError), which callers expect."""
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot change")

    @classmethod
    def rules(
        cls, values: Mapping[str, Any], data: dict[str, Any], context: Mapping[str, Any]
    ) -> list[Problem]:
        """The cross-field rules broken by ``values`` (every field's value, None when
        absent or bad; list items None when bad); ``data`` is the raw input.  None here."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _checked_whole(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        fields = cls.model_fields
        data = {k: v for k, v in data.items() if k not in fields or not is_absent(v)}
        context = info.context or {}
        errors: list[InitErrorDetails] = []
        try:
            model = handler(data)
            values: Mapping[str, Any] = model.__dict__
        except ValidationError as invalid:
            model = None
            errors = [line_error(e) for e in invalid.errors(include_url=False)]
            values = Partial(cls, data, info.context)
        errors += [rule_error(loc, message) for loc, message in cls.rules(values, data, context)]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return model
