"""Valid case documents made up from an integer, for demo data, tests and benchmarks.

``sample_case(n)`` is deterministic: the same ``n`` always gives the same document, and
different ``n`` give different case numbers, so ``init --demo N`` never collides with
itself. People, IDs and codes are invented but pass every check of ``validate_case``:
resident IDs and credit codes carry correct check characters. The banks are real branch
names, their credit codes are not theirs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from certarchive.validation.identifiers import (
    credit_code_check_char,
    organisation_code_check_char,
    resident_id_check_char,
)

COUNTY_CODE = "411526"  # 潢川县
COUNTY = "潢川县"
YEAR = 2026
MAX_N = 99_999_998  # the case number's sequence has at most 8 digits
_BEIJING_TIME = timezone(timedelta(hours=8))
_FIRST_RECORDING = datetime(YEAR, 1, 5, 9, 0, tzinfo=_BEIJING_TIME)

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "皇甫")
_GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "秀英",
    "秀兰",
    "桂英",
    "建国",
    "志强",
    "海燕",
    "文博",
    "子涵",
    "雨桐",
    "浩然",
    "国庆",
    "红梅",
    "春生",
    "玉兰",
    "德华",
    "晓东",
    "思远",
    "佳怡",
)
# Districts and counties of 信阳市 (GB/T 2260), where most holders were born.
_BIRTH_AREAS = (
    "411526",
    "411526",
    "411526",
    "411502",
    "411503",
    "411521",
    "411522",
    "411523",
    "411524",
    "411525",
    "411527",
    "411528",
    "410102",
    "420102",
)
_TOWNS = (
    "春申街道",
    "弋阳街道",
    "老城街道",
    "北城街道",
    "双柳树镇",
    "伞陂镇",
    "卜塔集镇",
    "仁和镇",
    "黄寺岗镇",
    "江家集镇",
)
_ROADS = ("跃进路", "航空路", "春申路", "弋阳路", "光州大道", "淮河路", "西大街", "小潢河路")
_ESTATES = ("盛世华庭", "和园小区", "滨河花园", "金色港湾", "书香苑", "城南新区", "龙湖湾")
_VILLAGES = ("桃林", "黄湾", "刘营", "陈店", "新集", "小吕店")
_SHARES = {
    2: (("1/2", "1/2"), ("60%", "40%"), ("1/3", "2/3")),
    3: (("1/3", "1/3", "1/3"), ("50%", "30%", "20%"), ("1/2", "1/4", "1/4")),
}


def _credit_code(prefix: str, organisation: str) -> str:
    """A credit code from its 8-character prefix and organisation code body."""
    body = prefix + organisation + organisation_code_check_char(organisation)
    return body + credit_code_check_char(body)


_BANKS = tuple(
    (name, _credit_code("91411526", organisation))
    for name, organisation in (
        ("中国农业银行股份有限公司潢川县支行", "70617324"),
        ("中国建设银行股份有限公司潢川支行", "70618826"),
        ("中国工商银行股份有限公司潢川支行", "70618135"),
        ("中国邮政储蓄银行股份有限公司潢川县支行", "66722493"),
        ("河南潢川农村商业银行股份有限公司", "05173890"),
    )
)


def _name(rng: random.Random) -> str:
    surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.05 else rng.choice(_SURNAMES)
    return surname + rng.choice(_GIVEN_NAMES)


def _resident_id(rng: random.Random, index: int) -> str:
    """A valid resident ID; ``index`` (0-2) keeps the people of one certificate distinct."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
    body = f"{rng.choice(_BIRTH_AREAS)}{born:%Y%m%d}{rng.randrange(330) * 3 + index:03d}"
    return body + resident_id_check_char(body)


def _person(rng: random.Random, index: int) -> dict[str, str]:
    person = {"name": _name(rng), "id_type": "resident_id", "id_number": _resident_id(rng, index)}
    if rng.random() < 0.7:
        person["phone"] = f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"
    return person


def _owners(rng: random.Random) -> tuple[list[dict[str, str]], str]:
    """1 to 3 holders and their 共有情况, with shares under 按份共有."""
    count = rng.choice((1, 1, 1, 2, 2, 3))
    owners = [_person(rng, i) for i in range(count)]
    if count == 1:
        return owners, "单独所有"
    if rng.random() < 0.5:
        return owners, "共同共有"
    for owner, share in zip(owners, rng.choice(_SHARES[count]), strict=True):
        owner["share"] = share
    return owners, "按份共有"


def _date_range(start: date, years: int) -> str:
    end = start.replace(year=start.year + years) - timedelta(days=1)
    return f"{start:%Y年%m月%d日}起{end:%Y年%m月%d日}止"


def _unit(rng: random.Random) -> dict[str, str]:
    """Location, unit number and the right fields of an urban flat or a rural house."""
    zone, sub, parcel = rng.randint(1, 12), rng.randint(1, 20), rng.randint(1, 3000)
    land, floor_area = rng.uniform(20, 300), rng.uniform(45, 260)
    if rng.random() < 0.2:
        return {
            "location": f"{COUNTY}{rng.choice(_TOWNS)}{rng.choice(_VILLAGES)}村"
            f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号",
            "unit_number": f"{COUNTY_CODE}{zone:03d}{sub:03d}JC{parcel:05d}F00010001",
            "right_type": "宅基地使用权/房屋所有权",
            "right_nature": "批准拨用宅基地/自建房",
            "use": "宅基地/住宅",
            "area": f"宗地面积{land:.2f}㎡/房屋建筑面积{floor_area:.2f}㎡",
            "term": "长期",
        }
    building, storey, door = rng.randint(1, 30), rng.randint(1, 18), rng.randint(1, 4)
    return {
        "location": f"{COUNTY}{rng.choice(_TOWNS)}{rng.choice(_ROADS)}{rng.randint(1, 300)}号"
        f"{rng.choice(_ESTATES)}{building}幢{rng.randint(1, 3)}单元"
        f"{storey}{door:02d}室",
        "unit_number": f"{COUNTY_CODE}{zone:03d}{sub:03d}GB{parcel:05d}"
        f"F{building:04d}{storey * 100 + door:04d}",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/商品房",
        "use": "城镇住宅用地/住宅",
        "area": f"共有宗地面积{land * 40:.2f}㎡/房屋建筑面积{floor_area:.2f}㎡",
        "term": _date_range(
            date(rng.randint(2003, 2022), rng.randint(1, 12), rng.randint(1, 28)), 70
        ),
    }


def _right(
    rng: random.Random, owners: list[dict[str, str]], co_ownership: str, unit: dict[str, str]
) -> dict[str, Any]:
    certificate: dict[str, Any] = {
        "kind": "right",
        "holders": owners,
        "co_ownership": co_ownership,
        **unit,
    }
    if rng.random() < 0.5:
        certificate["other_status"] = (
            f"房屋结构：钢混结构；房屋总层数：{rng.randint(6, 33)}层；"
            f"专有建筑面积：{rng.uniform(40, 200):.2f}㎡"
        )
    if rng.random() < 0.3:
        certificate["notes"] = f"业务号：{YEAR}{rng.randrange(10**8):08d}"
    return certificate


def _mortgage(
    rng: random.Random, owners: list[dict[str, str]], unit: dict[str, str]
) -> dict[str, Any]:
    """A 抵押权 proof: a bank (a legal person, Z-3) as holder, the owners as obligors."""
    bank, code = rng.choice(_BANKS)
    start = date(YEAR, 1, 1) + timedelta(days=rng.randrange(300))
    return {
        "kind": "proof",
        "proved_right": "抵押权",
        "holders": [{"name": bank, "id_type": "credit_code", "id_number": code}],
        "obligors": [
            {k: v for k, v in owner.items() if k in ("name", "id_type", "id_number")}
            for owner in owners
        ],
        "location": unit["location"],
        "unit_number": unit["unit_number"],
        "other": f"被担保主债权数额：{rng.randint(10, 150)}万元；"
        f"债务履行期限：{_date_range(start, rng.choice((10, 20, 30)))}",
        "notes": "抵押方式：一般抵押",
    }


def sample_case(n: int = 0, *, replaces: Sequence[str] = ()) -> dict[str, Any]:
    """A valid case document, the same for the same ``n`` (0 <= n <= MAX_N).

    ``n % 3`` picks the shape: 0 a first registration with one right certificate, 1 a first
    registration with a right certificate and the mortgage proof on the same unit, 2 a
    mortgage registration with a proof only. Given ``replaces`` (serials) it is a transfer
    replacing them (H-4.2). Delivery is electronic: mortgage proofs have a bank as holder.
    """
    if not 0 <= n <= MAX_N:
        raise ValueError(f"n must be between 0 and {MAX_N}")
    rng = random.Random(n)  # noqa: S311 - invented demo data, nothing secret
    owners, co_ownership = _owners(rng)
    unit = _unit(rng)
    shape = n % 3
    certificates = [_right(rng, owners, co_ownership, unit)] if shape < 2 else []
    if shape > 0:
        certificates.append(_mortgage(rng, owners, unit))
    recorded_at = _FIRST_RECORDING + timedelta(days=rng.randrange(300), minutes=rng.randrange(480))
    case: dict[str, Any] = {
        "case_no": f"{YEAR}-{COUNTY_CODE}-{n + 1:06d}",
        "registration_type": "transfer" if replaces else ("mortgage" if shape == 2 else "first"),
        "recorded_at": recorded_at.isoformat(),
        "delivery": "electronic",
        "certificates": certificates,
    }
    if replaces:
        case["replaces"] = list(replaces)
    return case


def sample_existing_case(n: int = 0, *, fullwidth: bool = False) -> dict[str, Any]:
    """``sample_case(n)`` as a line of ``import-existing``: each certificate with a paper
    serial (sequence 2n+1 for the right, 2n+2 for the proof, so that different ``n``
    never collide) and an issue time a week after recording.  ``fullwidth`` prints the
    serials with （） as paper certificates often do."""
    case = sample_case(n)
    issued_at = datetime.fromisoformat(case["recorded_at"]) + timedelta(days=7)
    opening, closing = ("（", "）") if fullwidth else ("(", ")")
    for certificate in case["certificates"]:
        right = certificate["kind"] == "right"
        word, seq = ("不动产权", 2 * n + 1) if right else ("不动产证明", 2 * n + 2)
        certificate["serial"] = f"豫{opening}{issued_at.year}{closing}{COUNTY}{word}第{seq:07d}号"
        certificate["issued_at"] = issued_at.isoformat()
    return case
