"""certarchive.validation.identifiers against published examples and the standards' guarantees.

Known-valid values come from sources independent of this code: the two examples printed in
GB 11643, ISO/IEC 7064's MOD 37,36 example, test data of python-stdnum (cn.ric, cn.uscc,
iso7064), the parcel codes of GB/T 37346's appendix A, and e-licence identifiers used by
provincial platforms. Only after those pass are the check functions used to make new values.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from certarchive.i18n import in_language
from certarchive.validation.identifiers import (
    ALPHANUMERIC,
    CREDIT_CODE_ALPHABET,
    LICENCE_ROOT,
    Serial,
    build_licence_identifier,
    check_credit_code,
    check_licence_identifier,
    check_resident_id,
    check_unit_number,
    credit_code_check_char,
    format_serial,
    is_valid_credit_code,
    is_valid_licence_identifier,
    is_valid_resident_id,
    is_valid_unit_number,
    iso7064_mod11_2,
    iso7064_mod37_36,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize,
    normalize_serial,
    organisation_code_check_char,
    parse_serial,
    resident_id_check_char,
)

TODAY = date(2026, 11, 21)

# GB 11643-1999's own examples, then python-stdnum's cn.ric test data.
KNOWN_RESIDENT_IDS = ("11010519491231002X", "440524188001010014", "360426199101010071",
                      "44011320141005001X")
# A widely published GB 32100 sample, then python-stdnum's cn.uscc test data (found online).
KNOWN_CREDIT_CODES = ("91350100M000100Y43", "91110000600037341L", "121200004013590816",
                      "9115220107837757XE", "91310115MA1K3BTP2B", "91620105L015101280",
                      "92340603MA2UJY9J74", "92340621MA2UK3PJXE")
# Identifiers quoted by provincial e-licence platforms (type code, issuer, serial, version, check).
KNOWN_LICENCES = (
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
)
VALID_UNIT = "340123002004GB00011F00010001"  # GB/T 37346 A.2.1's parcel, building 1 unit 1


# -- ISO 7064 -------------------------------------------------------------------------------


def refused_in_english(problem: str, call: Any, *args: Any) -> None:
    """``call(*args)`` raises ValueError whose message reads ``problem`` in English."""
    with pytest.raises(ValueError) as caught:
        call(*args)
    assert re.search(problem, in_language(caught.value, "en")), caught.value


def test_mod11_2_matches_the_iso_example() -> None:
    """ISO 7064 MOD 11-2 (the GB 11643 check): "079" gets check character X."""
    assert iso7064_mod11_2("079") == "X"


def test_mod37_36_matches_the_iso_example() -> None:
    """ISO 7064 MOD 37,36, the GB/T 36904 check: A12425GABC1234002 gets M."""
    assert iso7064_mod37_36("A12425GABC1234002") == "M"


alnum = st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=40)


@given(alnum, st.data())
def test_mod37_36_detects_every_single_substitution(body: str, data: st.DataObject) -> None:
    """The hybrid system's guarantee: any one changed character changes the check."""
    i = data.draw(st.integers(0, len(body) - 1))
    new = data.draw(st.sampled_from(ALPHANUMERIC).filter(lambda c: c != body[i]))
    assert iso7064_mod37_36(body[:i] + new + body[i + 1:]) != iso7064_mod37_36(body)


def _verifies(with_check: str) -> bool:
    return iso7064_mod37_36(with_check[:-1]) == with_check[-1]


@given(alnum, st.data())
def test_mod37_36_detects_adjacent_transpositions_except_of_neighbour_values(
    body: str, data: st.DataObject
) -> None:
    """Swapping two adjacent characters (the check character included) is detected unless
    their values differ by 1 modulo 36: exactly the hybrid system's blind spot."""
    full = body + iso7064_mod37_36(body)
    i = data.draw(st.integers(0, len(full) - 2))
    a, b = ALPHANUMERIC.index(full[i]), ALPHANUMERIC.index(full[i + 1])
    assume((a - b) % 36 not in (0, 1, 35))
    assert not _verifies(full[:i] + full[i + 1] + full[i] + full[i + 2:])


def test_mod37_36_blind_spot_is_real() -> None:
    """The exception above exists: "IJ" and "JI" (values 18, 19) collide at the start, so a
    test claiming every transposition is caught would be false."""
    assert iso7064_mod37_36("IJ2026") == iso7064_mod37_36("JI2026")


# -- GB 11643 resident ID -------------------------------------------------------------------


@pytest.mark.parametrize("number", KNOWN_RESIDENT_IDS)
def test_published_resident_ids_are_valid(number: str) -> None:
    """GB 11643 examples and real-format test data pass; the check char is recomputed."""
    assert check_resident_id(number, today=TODAY) == []
    assert resident_id_check_char(number[:17]) == number[17]


def test_lowercase_x_is_accepted_and_normalized() -> None:
    """GB 11643's X may be typed in lower case; the stored form is upper case."""
    assert is_valid_resident_id("11010519491231002x", today=TODAY)
    assert normalize(" 11010519491231002x ") == "11010519491231002X"


def _resident_id(body: str) -> str:
    return body + resident_id_check_char(body)


@pytest.mark.parametrize(("number", "problem"), [
    ("1101051949123100", "18"),
    ("1101051949123100AX", "17 digits"),
    ("11010519491231002Y", "end with a digit or X"),
    ("11010519491231002１", "end with a digit or X"),
    ("110105194912310021", "check digit"),
    (_resident_id("99010519491231002"), "area code"),
    (_resident_id("11010519490230002"), "not a real date"),
    (_resident_id("11010520261122002"), "out of range"),
    (_resident_id("11010517991231002"), "out of range"),
])
def test_bad_resident_ids_name_their_problem(number: str, problem: str) -> None:
    """Each GB 11643 rule has its message; the number itself is never echoed (H-5.2.3)."""
    problems = [in_language(p, "en") for p in check_resident_id(number, today=TODAY)]
    assert len(problems) == 1
    assert problem in problems[0]
    assert number not in problems[0] and number[:6] not in problems[0]


def test_birth_date_today_is_allowed_and_tomorrow_is_not() -> None:
    """"Not in the future" is measured against ``today``."""
    assert is_valid_resident_id(_resident_id("41152620261121001"), today=TODAY)
    assert not is_valid_resident_id(_resident_id("41152620261122001"), today=TODAY)


resident_ids = st.builds(
    lambda area, born, seq: _resident_id(f"{area}{born:%Y%m%d}{seq:03d}"),
    st.sampled_from(("110105", "411526", "440524", "650102", "820000")),
    st.dates(date(1900, 1, 1), TODAY),
    st.integers(0, 999),
)


@given(resident_ids, st.data())
def test_any_single_change_of_a_resident_id_is_detected(number: str, data: st.DataObject) -> None:
    """MOD 11-2 has nonzero weights modulo the prime 11: every substitution is caught."""
    assert is_valid_resident_id(number, today=TODAY)
    i = data.draw(st.integers(0, 17))
    new = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != number[i]))
    assert not is_valid_resident_id(number[:i] + new + number[i + 1:], today=TODAY)


@given(resident_ids, st.integers(0, 16))
def test_any_adjacent_transposition_of_a_resident_id_is_detected(number: str, i: int) -> None:
    """Adjacent MOD 11-2 weights differ modulo 11, so swapping different digits is caught."""
    assume(number[i] != number[i + 1])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
    assert not is_valid_resident_id(swapped, today=TODAY)


# -- GB 32100 credit code -------------------------------------------------------------------


@pytest.mark.parametrize("code", KNOWN_CREDIT_CODES)
def test_published_credit_codes_are_valid(code: str) -> None:
    """Real codes pass both the GB 11714 and the GB 32100 check characters."""
    assert check_credit_code(code) == []
    assert organisation_code_check_char(code[8:16]) == code[16]
    assert credit_code_check_char(code[:17]) == code[17]


def test_credit_codes_are_case_insensitive() -> None:
    """Typed in lower case, a credit code is still recognised."""
    assert is_valid_credit_code("91310115ma1k3btp2b")


def _credit_code(body: str) -> str:
    return body + credit_code_check_char(body)


@pytest.mark.parametrize(("code", "problem"), [
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100I43", "I, O, S, V, Z"),
    (_credit_code("9135A100M000100Y4"), "area must be 6 digits"),
    (_credit_code("91350100M000100Y5"), "organisation code check"),
    ("91350100M000100Y44", "credit code check character"),
])
def test_bad_credit_codes_name_their_problem(code: str, problem: str) -> None:
    """GB 32100: length, alphabet, area, embedded GB 11714 check, final check."""
    problems = [in_language(p, "en") for p in check_credit_code(code)]
    assert len(problems) == 1
    assert problem in problems[0]
    assert code not in problems[0]


credit_codes = st.builds(
    lambda head, area, org: _credit_code(head + area + org + organisation_code_check_char(org)),
    st.sampled_from(("91", "92", "93", "11", "12", "51", "52", "Y1")),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=8, max_size=8),
)


@given(credit_codes, st.data())
def test_any_single_change_of_a_credit_code_is_detected(code: str, data: st.DataObject) -> None:
    """MOD 31 (prime) with nonzero weights catches every substitution."""
    assert is_valid_credit_code(code)
    i = data.draw(st.integers(0, 17))
    new = data.draw(st.sampled_from(CREDIT_CODE_ALPHABET).filter(lambda c: c != code[i]))
    assert not is_valid_credit_code(code[:i] + new + code[i + 1:])


@given(credit_codes, st.integers(0, 16))
def test_any_adjacent_transposition_of_a_credit_code_is_detected(code: str, i: int) -> None:
    """Adjacent weights 3^i and 3^(i+1) (and 28 vs the check's 1) differ modulo 31."""
    assume(code[i] != code[i + 1])
    assert not is_valid_credit_code(code[:i] + code[i + 1] + code[i] + code[i + 2:])


# -- GB/T 37346 unit number -----------------------------------------------------------------


@pytest.mark.parametrize("unit", [
    VALID_UNIT,
    "340123002004GS00019F00010001",  # A.2.2 above ground
    "340123002004GX00020W00000000",  # A.2.3 below ground, no fixture
    "340123002004GD00021L00000001",  # A.2.4 contracted farmland, trees
    "411526001002JC00123F00010001",  # homestead on collective land
    "411526001002JA00001W00000000",  # collective ownership parcel
    "411526001002ZW00001Q00000003",  # ownership undetermined
    "411526001002gb00011f00010001",  # typed in lower case
])
def test_valid_unit_numbers(unit: str) -> None:
    """GB/T 37346's appendix parcels and other valid combinations pass."""
    assert check_unit_number(unit) == []


@pytest.mark.parametrize(("unit", "position"), [
    ("340123002004GB00011F0001000", "28 characters"),
    ("34012A002004GB00011F00010001", "position 1:"),
    ("340123A02004GB00011F00010001", "position 7:"),
    ("340123002A04GB00011F00010001", "position 10:"),
    ("340123002004XB00011F00010001", "position 13: parcel feature must be G, J or Z"),
    ("340123002004GI00011F00010001", "position 14:"),
    ("340123002004GA00011W00000000", "position 14: this right type needs ownership J"),
    ("340123002004JH00011W00000000", "position 14: this right type needs ownership G"),
    ("340123002004GB0001AF00010001", "position 15:"),
    ("340123002004GB00011X00010001", "position 20:"),
    ("340123002004GB00011F0001000A", "position 21:"),
    ("340123002004GB00011W00010001", "position 21: a unit without fixture"),
])
def test_bad_unit_numbers_name_the_position(unit: str, position: str) -> None:
    """Each GB/T 37346 segment is checked and its problem names its 1-based position."""
    problems = [in_language(p, "en") for p in check_unit_number(unit)]
    assert len(problems) == 1
    assert position in problems[0]


def test_unit_number_problems_are_all_listed_in_position_order() -> None:
    """A unit number with several faults lists each, first position first."""
    problems = [in_language(p, "en") for p in check_unit_number("34012300200AKB00011V0001000X")]
    assert [p.split(": ")[0] for p in problems] == [
        "position 10", "position 13", "position 20", "position 21"]
    assert not is_valid_unit_number("34012300200AKB00011V0001000X")


# -- GB/T 36904 licence identifier ----------------------------------------------------------


@pytest.mark.parametrize("identifier", KNOWN_LICENCES)
def test_real_licence_identifiers_are_rebuilt_exactly(identifier: str) -> None:
    """Building from the parts of a real identifier gives it back, check character included:
    MOD 37,36 is taken over the parts joined without dots."""
    type_code, issuer, serial, version, _ = identifier.removeprefix(LICENCE_ROOT + ".").split(".")
    assert build_licence_identifier(type_code, issuer, serial, int(version)) == identifier
    assert check_licence_identifier(identifier) == []


@pytest.mark.parametrize(("identifier", "problem"), [
    ("1.2.156.3005.1.11100000000013338W011.11430000006122244L.20230000403.001.U", "must read"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U", "must read"),
    ("1.2.156.3005.2.11100000000013338X011.11430000006122244L.20230000403.001.U", "type code"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244M.20230000403.001.U", "issuer"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023-0403.001.U", "serial"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.000.U", "version"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V",
     "check character"),
])
def test_bad_licence_identifiers_name_their_problem(identifier: str, problem: str) -> None:
    """Structure, both embedded credit codes, serial, version and the check are verified."""
    problems = [in_language(p, "en") for p in check_licence_identifier(identifier)]
    assert len(problems) == 1
    assert problem in problems[0]


def test_building_refuses_bad_parts() -> None:
    """A licence identifier is never built from parts that would not verify."""
    issuer = "11100000000013338W011"
    refused_in_english("issuer", build_licence_identifier, issuer, "11430000006122244M", "1")
    refused_in_english(
        "version", build_licence_identifier, issuer, "11430000006122244L", "1", 1000
    )


@given(st.from_regex(r"\A[0-9A-Z]{1,32}\Z"), st.integers(1, 999), st.data())
def test_any_single_change_of_a_licence_identifier_is_detected(
    serial: str, version: int, data: st.DataObject
) -> None:
    """Every substitution after the root arc is caught (MOD 37,36 guarantees it)."""
    identifier = build_licence_identifier("11100000000013338W011", "11430000006122244L",
                                          serial, version)
    assert is_valid_licence_identifier(identifier)
    positions = [i for i in range(len(LICENCE_ROOT) + 1, len(identifier))
                 if identifier[i] != "."]
    i = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from(ALPHANUMERIC).filter(lambda c: c != identifier[i]))
    assert not is_valid_licence_identifier(identifier[:i] + new + identifier[i + 1:])


# -- H-1.6 serials --------------------------------------------------------------------------


def test_serials_print_like_the_paper_certificate() -> None:
    """H-1.6: province + year + county + sequence, right and proof wording, width 7 or 8."""
    hc = ("豫", 2026, "潢川县")
    assert format_serial(*hc, "right", 123, 7) == "豫(2026)潢川县不动产权第0000123号"
    assert format_serial(*hc, "proof", 45, 7) == "豫(2026)潢川县不动产证明第0000045号"
    assert format_serial(*hc, "right", 123, 8) == "豫(2026)潢川县不动产权第00000123号"


@pytest.mark.parametrize("printed", [
    "豫(2026)潢川县不动产权第0000123号",
    "豫（2026）潢川县不动产权第0000123号",
    "豫（2026)潢川县不动产权第0000123号",
    " 豫(2026)潢川县不动产权第0000123号 ",
])
def test_serials_parse_with_either_parentheses(printed: str) -> None:
    """Both () and （） occur on input; the parts are the same and print with ASCII ()."""
    assert parse_serial(printed) == Serial("豫", 2026, "潢川县", "right", 123, 7)
    assert normalize_serial(printed) == "豫(2026)潢川县不动产权第0000123号"


def test_proof_serials_parse_to_kind_proof() -> None:
    """不动产证明 is the proof wording."""
    parsed = parse_serial("豫(2026)郑州市金水区不动产证明第00000045号")
    assert parsed == Serial("豫", 2026, "郑州市金水区", "proof", 45, 8)


@pytest.mark.parametrize("printed", [
    "豫(2026)潢川县不动产权第0000123",
    "A(2026)潢川县不动产权第0000123号",
    "豫(26)潢川县不动产权第0000123号",
    "豫(2026)潢川县不动产第0000123号",
    "豫(2026)潢川县不动产权第0000000号",
    "豫[2026]潢川县不动产权第0000123号",
    "豫(2026)不动产权第0000123号",
])
def test_malformed_serials_are_refused(printed: str) -> None:
    """Anything but the H-1.6 form raises ValueError."""
    refused_in_english("serial", parse_serial, printed)


@pytest.mark.parametrize(("args", "problem"), [
    (("豫", 2026, "潢川县", "right", 10**7, 7), "fit the width"),
    (("豫", 2026, "潢川县", "right", 0, 7), "positive"),
    (("豫", 2026, "潢川县", "deed", 1, 7), "kind"),
    (("X", 2026, "潢川县", "right", 1, 7), "province"),
    (("豫", 26, "潢川县", "right", 1, 7), "year"),
    (("豫", 2026, "潢川县(1)", "right", 1, 7), "county"),
])
def test_format_serial_refuses_bad_parts(args: tuple, problem: str) -> None:
    """A serial that parse_serial would refuse is never printed."""
    refused_in_english(problem, format_serial, *args)


@given(st.sampled_from("京沪豫粤川新"), st.integers(2015, 2099),
       st.sampled_from(("潢川县", "信阳市", "郑州市金水区")), st.sampled_from(("right", "proof")),
       st.integers(7, 8), st.integers(1, 9_999_999))
def test_serials_round_trip(province: str, year: int, county: str, kind: str, width: int,
                            seq: int) -> None:
    """parse_serial inverts format_serial for every valid combination (H-1.6)."""
    parts = Serial(province, year, county, kind, seq, width)
    assert parse_serial(str(parts)) == parts


# -- H-5.2.3 masking ------------------------------------------------------------------------


def test_names_keep_only_the_first_character() -> None:
    """H-5.2.3: natural persons' names are starred after the first character."""
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "*"


def test_legal_persons_names_are_shown_in_full() -> None:
    """A bank is a legal person: its name is public."""
    assert mask_name("中国农业银行股份有限公司潢川县支行", "credit_code") == (
        "中国农业银行股份有限公司潢川县支行")
    assert mask_name("张三", "resident_id") == "张*"


def test_numbers_keep_their_ends_only() -> None:
    """ID numbers keep 4 + 4 characters, phones 3 + 4; short values are starred entirely."""
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("13800000000") == "138****0000"
    assert mask_id_number("E1234567") == "********"
    assert mask_phone("1380000") == "*******"
