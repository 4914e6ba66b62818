"""Translations: Chinese in the code, English in a gettext catalog (Pyramid's i18n).

Every text a person reads is written once, in Chinese, as ``_("中文")`` or, with values,
``_("证书 ${serial} 不存在", mapping={"serial": serial})`` (``${name}`` placeholders,
TranslationString style).  The Chinese text is the msgid; its English is the msgstr in
``locale/en/LC_MESSAGES/certarchive.po``, kept by Babel (``make messages`` extracts from
the Python sources and the jinja2 templates and updates the catalog; ``make`` compiles
it into the ``.mo`` the application reads).

:class:`Message` is a :class:`~translationstring.TranslationString` of the domain
``certarchive`` whose text, used as a plain string, is already its Chinese with the
values filled in: a message that reaches a log, a JSON file of the registry or ``str()``
reads correctly in the first language.  Stored (a history comment, a backup job's error)
it keeps its msgid and values, so that pages show it in the reader's language too.
Where a reader is known, :func:`translate` gives it in the reader's language: the web
through the request's localizer (the ``lang`` cookie, else ``Accept-Language``, else
Chinese: :func:`locale_negotiator`), the command line both languages (:func:`bilingual`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pyramid.i18n import Localizer, make_localizer
from pyramid.request import Request
from translationstring import TranslationString
from webob.acceptparse import create_accept_language_header
from webob.cookies import RequestCookies

DOMAIN = "certarchive"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).with_name("locale")
#: Where Pyramid finds the compiled catalogs (``config.add_translation_dirs``).
TRANSLATION_DIRS = "certarchive:locale"


class Message(TranslationString):
    """A msgid (Chinese, ``${name}`` placeholders) with its values, reading as Chinese."""

    msgid: str

    def __new__(cls, msgid: str, mapping: Mapping[str, Any] | None = None) -> Message:
        values = dict(mapping) if mapping else None
        chinese = TranslationString(msgid, domain=DOMAIN, mapping=values).interpolate()
        self = str.__new__(cls, chinese)
        self.msgid = str(msgid)
        self.domain = DOMAIN
        self.context = None
        self.default = self.msgid
        self.mapping = values
        return self

    def __reduce__(self) -> tuple[type, tuple[str, dict[str, Any] | None]]:
        """Kept (a history comment, a job's error) as msgid and values, so that it is still
        shown in the reader's language; values that are not plain data are kept as text."""
        plain = (str, int, float, bool, type(None))
        values = {
            key: value if isinstance(value, plain) else str(value)
            for key, value in (self.mapping or {}).items()
        }
        return Message, (self.msgid, values or None)

    def __reduce_ex__(self, protocol: Any) -> tuple[type, tuple[str, dict[str, Any] | None]]:
        return self.__reduce__()

    def translation_string(self, translate_value: Any) -> TranslationString:
        """The msgid as Pyramid translates it, nested messages in the values translated."""
        values = {key: translate_value(value) for key, value in (self.mapping or {}).items()}
        return TranslationString(self.msgid, domain=DOMAIN, mapping=values or None)


def _(msgid: str, mapping: Mapping[str, Any] | None = None) -> Message:
    """Mark a Chinese text for translation (the extraction keyword)."""
    return Message(msgid, mapping)


def joined(template: str, **values: Any) -> Message:
    """Values put together without words of their own, such as ``${place}: ${problem}``:
    not a catalog entry (the template is its own English), but the values that are
    messages are translated with it."""
    return Message(template, values)


def message_of(error: BaseException) -> Any:
    """The message an exception was raised with (to pass it on translatable), else its
    text."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Message) else str(error)


def listed(items: list[Any], separator: str = "；") -> Message:
    """Messages in a row (``a；b``), each translated with the whole."""
    template = separator.join("${item" + str(number) + "}" for number in range(len(items)))
    return Message(template, {f"item{number}": item for number, item in enumerate(items)})


def N_(msgid: str) -> str:
    """Mark a text for the catalog that must stay plain (a PDF's label): it is translated
    where it is shown, looked up as a msgid."""
    return msgid


def translate(value: Any, localizer: Localizer) -> str:
    """``value`` in the localizer's language: a :class:`Message` by its msgid and values,
    any other text (a stored comment, a label) looked up as a msgid, else shown as is."""
    if value is None:
        return ""
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Message):
        value = value.args[0]  # an exception raised with a message
    if isinstance(value, Message):
        return localizer.translate(
            value.translation_string(lambda item: translate_value(item, localizer))
        )
    if isinstance(value, TranslationString):
        return localizer.translate(value)
    text = str(value)
    if not text:
        return ""
    translated = localizer.translate(TranslationString(text, domain=DOMAIN))
    return _stored_half(text, localizer) if translated == text else translated


#: Text stored before the catalogs as "中文 / English" (the comments of older records).
_STORED_PAIR = re.compile(r"(?P<zh>[^/]*[\u3400-\u9fff][^/]*?) / (?P<en>[\"'(\[]?[A-Za-z].*)", re.S)


def _stored_half(text: str, localizer: Localizer) -> str:
    """The reader's half of a stored ``中文 / English`` text; any other text as it is."""
    pair = _STORED_PAIR.fullmatch(text)
    if pair is None:
        return text
    return pair["en"] if localizer.locale_name == "en" else pair["zh"]


def translate_value(value: Any, localizer: Localizer) -> Any:
    """A mapping value: messages (and exceptions raised with one) translated, stored text
    (a revocation's cause) looked up as a msgid, anything else left for interpolation."""
    if isinstance(value, str | BaseException):
        return translate(value, localizer)
    return value


@cache
def localizer_for(language: str) -> Localizer:
    """A localizer outside a request (the command line, tests)."""
    return make_localizer(language, [str(LOCALE_DIR)])


def in_language(value: Any, language: str) -> str:
    return translate(value, localizer_for(language))


def bilingual(value: Any) -> str:
    """The command line's form: ``中文 / English`` (one text when both read the same)."""
    chinese, english = in_language(value, "zh"), in_language(value, "en")
    return chinese if chinese == english else f"{chinese} / {english}"


def locale_negotiator(request: Request) -> str:
    """The reader's language: the ``lang`` cookie (set by ``/language/{code}``) wins,
    then the browser's ``Accept-Language``, then Chinese."""
    return environ_language(request.environ)


def environ_language(environ: Mapping[str, Any]) -> str:
    """:func:`locale_negotiator` from the WSGI environ alone: the page cache asks it on
    every hit, before (and instead of) building a request."""
    cookies = environ.get("HTTP_COOKIE")
    if cookies and "lang" in cookies:
        chosen = RequestCookies(environ).get("lang")
        if chosen in LANGUAGES:
            return chosen
    accepted = environ.get("HTTP_ACCEPT_LANGUAGE")
    if accepted is None:
        return DEFAULT_LANGUAGE
    if len(accepted) > ACCEPT_LANGUAGE_KEPT:
        return _accepted_language(accepted)
    return _remembered_language(accepted)


#: The longest ``Accept-Language`` value whose answer is remembered (browsers send 10–60
#: characters); longer ones are parsed each time, so the memory stays small.
ACCEPT_LANGUAGE_KEPT = 200


def _accepted_language(header: str) -> str:
    return create_accept_language_header(header).lookup(
        language_tags=list(LANGUAGES), default=DEFAULT_LANGUAGE
    )


_remembered_language = lru_cache(maxsize=256)(_accepted_language)


def request_translate(request: Request, value: Any) -> str:
    return translate(value, request.localizer)


def localize_tree(value: Any, localizer: Localizer) -> Any:
    """A JSON answer with every :class:`Message` in it translated (keys stay as they are)."""
    if isinstance(value, Message):
        return translate(value, localizer)
    if isinstance(value, dict):
        return {key: localize_tree(item, localizer) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [localize_tree(item, localizer) for item in value]
    return value


def localized_json(factory: Any) -> Any:
    """Wrap Pyramid's JSON renderer factory: the answer's messages in the request's language."""

    def renderer_factory(info: Any) -> Any:
        render = factory(info)

        def localized(value: Any, system: dict[str, Any]) -> Any:
            request = system.get("request")
            if request is not None:
                value = localize_tree(value, request.localizer)
            return render(value, system)

        return localized

    return renderer_factory
