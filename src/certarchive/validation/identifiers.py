"""Identifiers that appear on a certificate, each checked against the standard that defines it.

Every ``check_*`` function returns a list of problems (empty when the value is valid) and
every ``is_valid_*`` is its boolean shortcut. Problems are written "中文 / English" and name
the field and the fault, never the submitted value: resident ID numbers and phones are
personal data (H-5.2.3) and error messages end up in logs and API responses.

Identifiers are case-insensitive on input (a resident ID may end in ``x``); ``normalize``
gives the stored upper-case form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from certarchive.i18n import _

# -- ISO 7064 check characters (GB/T 17710) -------------------------------------------------

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


#: A mainland mobile number, as holders' phones are given in case documents.
MOBILE_PHONE = re.compile(r"1[3-9][0-9]{9}")

def normalize(value: str) -> str:
    """The stored form of an identifier: surrounding blanks removed, letters upper-case."""
    return value.strip().upper()


def _digits(value: str) -> bool:
    """Whether ``value`` is non-empty ASCII digits (``str.isdigit`` also takes ² and ３)."""
    return value.isascii() and value.isdigit()


def iso7064_mod11_2(digits: str) -> str:
    """Check character ('0'-'9' or 'X') of the pure system MOD 11-2 over decimal ``digits``.

    Used by GB 11643 resident IDs. A pure system with a prime modulus detects every single
    substitution and every adjacent transposition.
    """
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2 % 11
    return "0123456789X"[(12 - total) % 11]


def iso7064_mod37_36(chars: str) -> str:
    """Check character of the hybrid system MOD 37,36 over ``chars`` from 0-9A-Z.

    Used by GB/T 36904 licence identifiers. The hybrid system detects every single
    substitution; an adjacent transposition goes unnoticed only when the two characters'
    values are neighbours modulo 36 and the running state happens to make them collide
    (for instance "IJ" and "JI" at the very start), which the standard accepts.
    """
    state = 36
    for char in chars:
        state = 2 * ((state + ALPHANUMERIC.index(char)) % 36 or 36) % 37
    return ALPHANUMERIC[(37 - state) % 36]


# -- GB 11643 resident ID -------------------------------------------------------------------

# Province-level prefixes of GB/T 2260 (the first two digits of every area code).
_PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)
_EARLIEST_BIRTH = date(1800, 1, 1)


def resident_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID whose first 17 digits are ``first17``."""
    return iso7064_mod11_2(first17)


def check_resident_id(value: str, *, today: date | None = None) -> list[str]:
    """Problems of a GB 11643 resident ID: area, birth date (real, not in the future), check.

    ``today`` is the reference date for "not in the future"; it defaults to the local date
    and is a parameter so that tests do not depend on the clock.
    """
    number = normalize(value)
    if len(number) != 18:
        return [_("身份证号须为18位")]
    if not _digits(number[:17]):
        return [_("身份证号前17位须为数字")]
    if number[17] not in "0123456789X":
        return [_("身份证号末位须为数字或X")]
    problems = []
    if number[:2] not in _PROVINCES:
        problems.append(_("身份证号地址码无效"))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        problems.append(_("身份证号出生日期无效"))
    else:
        if born < _EARLIEST_BIRTH or born > (today or date.today()):
            problems.append(_("身份证号出生日期超出范围"))
    if resident_id_check_char(number[:17]) != number[17]:
        problems.append(_("身份证号校验位错误"))
    return problems


def is_valid_resident_id(value: str, *, today: date | None = None) -> bool:
    """Whether ``value`` is a valid GB 11643 resident ID (see ``check_resident_id``)."""
    return not check_resident_id(value, today=today)


# -- GB 11714 organisation code and GB 32100 unified social credit code -----------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _weighted_sum(chars: str, alphabet: str, weights: tuple[int, ...]) -> int:
    """Sum of each character's value in ``alphabet`` times its weight (lengths must match)."""
    return sum(alphabet.index(c) * w for c, w in zip(chars, weights, strict=True))


def organisation_code_check_char(first8: str) -> str:
    """GB 11714 check character of the organisation code body ``first8`` (0-9, A-Z)."""
    value = 11 - _weighted_sum(first8, ALPHANUMERIC, _ORGANISATION_WEIGHTS) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_check_char(first17: str) -> str:
    """GB 32100 check character (MOD 31, weights 3^i) of the credit code body ``first17``."""
    total = _weighted_sum(first17, CREDIT_CODE_ALPHABET, _CREDIT_WEIGHTS)
    return CREDIT_CODE_ALPHABET[-total % 31]


def check_credit_code(value: str) -> list[str]:
    """Problems of a GB 32100 unified social credit code.

    Checked: length, alphabet, the 6-digit area code, the GB 11714 check character of the
    embedded organisation code (positions 9-17) and the final MOD 31 check character. The
    registration-authority and type codes (positions 1-2) are only held to the alphabet:
    their lists grow by amendment and a registry must not refuse a code issued under one.
    """
    code = normalize(value)
    if len(code) != 18:
        return [_("统一社会信用代码须为18位")]
    if any(c not in CREDIT_CODE_ALPHABET for c in code):
        return [
            _("统一社会信用代码含有非法字符")
        ]
    problems = []
    if not _digits(code[2:8]):
        problems.append(_("统一社会信用代码行政区划码须为6位数字"))
    if organisation_code_check_char(code[8:16]) != code[16]:
        problems.append(
            _("统一社会信用代码中组织机构代码校验位错误")
        )
    if credit_code_check_char(code[:17]) != code[17]:
        problems.append(_("统一社会信用代码校验位错误"))
    return problems


def is_valid_credit_code(value: str) -> bool:
    """Whether ``value`` is a valid GB 32100 credit code (see ``check_credit_code``)."""
    return not check_credit_code(value)


# -- GB/T 37346 real-estate unit number -------------------------------------------------------

PARCEL_OWNERSHIP = "GJZ"  # 国家土地所有权, 集体土地所有权, 土地所有权未确定或有争议
# Second character of the parcel (宗地/宗海) feature code, after GB/T 37346-2019's code table
# (also TD/T 1055): A 集体土地所有权宗地, B/S/X 建设用地使用权宗地 (地表/地上/地下),
# C 宅基地使用权宗地, D/E/F 土地承包经营权宗地 (耕地/林地/草地), G 无居民海岛使用权,
# H 海域使用权宗海, W 使用权未确定或有争议, Y 其他使用权.
PARCEL_RIGHT_TYPES = "ABCDEFGHSWXY"
# Right types that only exist on one kind of ownership, by law: a collective ownership parcel
# and a homestead are collective land (民法典 art. 261, 362); sea and islands are the state's
# (民法典 art. 247, 248).
_OWNERSHIP_OF_RIGHT = {"A": "J", "C": "J", "G": "G", "H": "G"}
FIXTURE_TYPES = "FLQW"  # 房屋等建筑物构筑物, 森林或林木, 其他定着物, 无定着物
_UNIT_DIGIT_FIELDS = (  # (start, end, name) of the all-digit segments
    (0, 6, _("县级行政区划代码")),
    (6, 9, _("地籍区")),
    (9, 12, _("地籍子区")),
    (14, 19, _("宗地顺序号")),
    (20, 28, _("定着物单元编号")),
)


def check_unit_number(value: str) -> list[str]:
    """Problems of a 28-character GB/T 37346 unit number, each naming its 1-based position.

    Layout: county (1-6), cadastral zone (7-9), sub-zone (10-12), parcel feature code (13-14),
    parcel sequence (15-19), fixture code (20), fixture unit (21-28: building 4 + unit 4,
    ``00000000`` when there is no fixture). A wrong length is reported alone because the
    positions of everything else are then unknown.
    """
    unit = normalize(value)
    if len(unit) != 28:
        return [_("不动产单元号须为28位")]
    found = [  # (position, problem), reported in position order
        (
            start + 1,
            _("第${start}位起：${field}须为数字", mapping={"start": start + 1, "field": name}),
        )
        for start, end, name in _UNIT_DIGIT_FIELDS
        if not _digits(unit[start:end])
    ]
    ownership, right, fixture = unit[12], unit[13], unit[19]
    if ownership not in PARCEL_OWNERSHIP:
        found.append(
            (13, _("第13位：宗地特征码须为G、J或Z"))
        )
    if right not in PARCEL_RIGHT_TYPES:
        found.append(
            (
                14,
                _(
                    "第14位：权利类型码须为${types}之一",
                    mapping={"types": ", ".join(PARCEL_RIGHT_TYPES)},
                ),
            )
        )
    elif ownership in PARCEL_OWNERSHIP and _OWNERSHIP_OF_RIGHT.get(right, ownership) != ownership:
        needed = _OWNERSHIP_OF_RIGHT[right]
        found.append(
            (
                14,
                _("第14位：该权利类型须与所有权${needed}组合", mapping={"needed": needed}),
            )
        )
    if fixture not in FIXTURE_TYPES:
        found.append(
            (
                20,
                _("第20位：定着物特征码须为F、L、Q或W"),
            )
        )
    elif fixture == "W" and unit[20:] != "00000000":
        found.append(
            (
                21,
                _("第21位起：无定着物时须为00000000"),
            )
        )
    return [problem for _, problem in sorted(found)]


def is_valid_unit_number(value: str) -> bool:
    """Whether ``value`` is a valid GB/T 37346 unit number (see ``check_unit_number``)."""
    return not check_unit_number(value)


# -- GB/T 36904 electronic licence identifier (电子证照标识) ------------------------------------

LICENCE_ROOT = "1.2.156.3005.2"  # the OID arc under which all e-licences are registered
_LICENCE_SERIAL = re.compile(r"[0-9A-Z]{1,64}")


def _licence_check_input(type_code: str, issuer: str, serial: str, version: str) -> list[str]:
    """Problems of the parts before the check character (shared by build and check)."""
    problems = []
    if len(type_code) != 21 or check_credit_code(type_code[:18]) or not _digits(type_code[18:]):
        problems.append(
            _("证照类型代码须为定义机构的统一社会信用代码加3位顺序号")
        )
    if check_credit_code(issuer):
        problems.append(
            _("颁证单位代码须为有效的统一社会信用代码")
        )
    if not _LICENCE_SERIAL.fullmatch(serial):
        problems.append(
            _("流水号须为1至64位数字或大写字母")
        )
    if len(version) != 3 or not _digits(version) or version == "000":
        problems.append(_("版本号须为001至999"))
    return problems


def build_licence_identifier(type_code: str, issuer: str, serial: str, version: int = 1) -> str:
    """The GB/T 36904 identifier ``1.2.156.3005.2.{type}.{issuer}.{serial}.{version}.{check}``.

    ``type_code`` is the defining body's credit code plus a 3-digit sequence, ``issuer`` the
    issuing agency's credit code, ``serial`` its own alphanumeric number for the licence and
    ``version`` counts re-issues. The check character is MOD 37,36 over the four parts
    concatenated without dots, as the national e-licence platform computes it.
    """
    parts = (normalize(type_code), normalize(issuer), normalize(serial), f"{version:03d}")
    problems = _licence_check_input(*parts)
    if problems:
        raise ValueError("; ".join(problems))
    return ".".join((LICENCE_ROOT, *parts, iso7064_mod37_36("".join(parts))))


def check_licence_identifier(value: str) -> list[str]:
    """Problems of a GB/T 36904 identifier: root, structure, embedded codes, check character."""
    identifier = normalize(value)
    root, dot, rest = identifier.partition(LICENCE_ROOT + ".")
    parts = rest.split(".")
    if root or not dot or len(parts) != 5:
        return [
            _("电子证照标识结构错误")
        ]
    *body, check = parts
    problems = _licence_check_input(*body)
    if not problems and iso7064_mod37_36("".join(body)) != check:
        problems.append(_("电子证照标识校验位错误"))
    return problems


def is_valid_licence_identifier(value: str) -> bool:
    """Whether ``value`` is a valid GB/T 36904 identifier (see ``check_licence_identifier``)."""
    return not check_licence_identifier(value)


# -- H-1.6 certificate serial numbers ---------------------------------------------------------

PROVINCE_ABBREVIATIONS = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"
SERIAL_WORDS = {"right": "不动产权", "proof": "不动产证明"}
_SERIAL = re.compile(
    rf"(?P<province>[{PROVINCE_ABBREVIATIONS}])[(（](?P<year>[0-9]{{4}})[)）]"
    r"(?P<county>[\u4e00-\u9fff]+?)(?P<word>不动产权|不动产证明)第(?P<seq>[0-9]{1,10})号"
)


@dataclass(frozen=True)
class Serial:
    """The parts of a certificate number (H-1.6); ``str()`` prints it in the one form."""

    province: str
    year: int
    county: str
    kind: str
    seq: int
    width: int

    def __str__(self) -> str:
        return format_serial(self.province, self.year, self.county, self.kind, self.seq, self.width)


def format_serial(
    province: str, year: int, county: str, kind: str, seq: int, width: int = 7
) -> str:
    """``豫(2026)潢川县不动产权第0000123号`` for kind "right", ``…不动产证明第…号`` for "proof".

    Printed with ASCII parentheses always: the H-1.6 examples and the contract use them, and
    one printed form keeps serials comparable as plain strings (they are lookup keys).
    ``width`` is the zero-padded sequence width, 7 in most places and 8 in some.
    """
    if province not in PROVINCE_ABBREVIATIONS or len(province) != 1:
        raise ValueError(_("省份简称无效"))
    if not 1000 <= year <= 9999:
        raise ValueError(_("年份须为4位"))
    if not re.fullmatch(r"[\u4e00-\u9fff]+", county):
        raise ValueError(_("县名须为汉字"))
    if kind not in SERIAL_WORDS:
        raise ValueError(_("证书种类须为right或proof"))
    if not 1 <= width <= 10 or not 1 <= seq < 10**width:
        raise ValueError(_("顺序号超出位数"))
    return f"{province}({year}){county}{SERIAL_WORDS[kind]}第{seq:0{width}d}号"


def parse_serial(value: str) -> Serial:
    """The parts of a serial printed with ``()`` or full-width ``（）``; ValueError otherwise."""
    match = _SERIAL.fullmatch(value.strip())
    if not match or int(match["seq"]) == 0:
        raise ValueError(_("证书编号格式错误，应如：豫(2026)潢川县不动产权第0000123号"))
    kind = next(k for k, word in SERIAL_WORDS.items() if word == match["word"])
    return Serial(
        match["province"],
        int(match["year"]),
        match["county"],
        kind,
        int(match["seq"]),
        len(match["seq"]),
    )


def normalize_serial(value: str) -> str:
    """The printed form of a serial given in either parenthesis style."""
    return str(parse_serial(value))


# -- H-5.2.3 masking of personal data ---------------------------------------------------------


def mask_name(name: str, id_type: str | None = None) -> str:
    """A natural person's name with all but the first character starred: 张三 → 张*.

    Compound surnames are not recognised (欧阳娜娜 → 欧***): guessing them right would need
    a list and a wrong guess shows more than intended. A one-character name becomes ``*``.
    Legal persons (``id_type`` "credit_code") are shown in full: their names are public.
    """
    if id_type == "credit_code":
        return name
    return "*" if len(name) <= 1 else name[0] + "*" * (len(name) - 1)


_MIN_HIDDEN = 4


def _keep_ends(value: str, head: int, tail: int) -> str:
    """``value`` with all but ``head`` leading and ``tail`` trailing characters starred.

    Values too short to hide at least four characters are starred entirely: a short
    passport number with 8 characters showing would hardly be masked at all.
    """
    if len(value) < head + tail + _MIN_HIDDEN:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id_number(number: str) -> str:
    """First 4 and last 4 characters kept: 4101**********1234; short numbers fully starred."""
    return _keep_ends(number, 4, 4)


def mask_phone(phone: str) -> str:
    """First 3 and last 4 digits kept: 138****0000."""
    return _keep_ends(phone, 3, 4)


# A resident ID number (GB 11643) or a mobile number standing alone in free text: not part
# of a longer run of letters and digits, so that hex ids, digests and serials never match.
_ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")


def mask_identifiers_in(text: str) -> str:
    """``text`` with every ID-number-shaped and phone-shaped token masked as above.

    For text a caller typed that reaches a log (a mistyped URL holding an ID number instead
    of a serial): the shape is recognised whether or not the check digit is right, since a
    mistyped ID number is still somebody's. Names cannot be recognised in free text.
    """
    text = _ID_NUMBER_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
