"""What the renderer is given: plain, immutable values the registry code builds.

The documents package never reads the registry itself.  Keeping its input to two frozen
dataclasses means a certificate file is a pure function of these values (plus the seal
key when signing), which is what makes re-rendering and the H-5.2.6 metadata comparison
trustworthy.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: China Standard Time: no daylight saving, so a fixed offset is exact.
CHINA_TIME = datetime.timezone(datetime.timedelta(hours=8))

KIND_RIGHT = "right"
KIND_PROOF = "proof"

#: Title printed on the seal page and stored as the licence type name, per kind (H-1.1).
KIND_TITLES = {KIND_RIGHT: "不动产权证书", KIND_PROOF: "不动产登记证明"}

#: The seal-page statement of the current 不动产权证书 form (民法典).  Older forms cite
#: 物权法, so the text travels in :class:`AgencyStamp` instead of being fixed here.
STATEMENT_RIGHT = (
    "根据《中华人民共和国民法典》等法律法规，为保护不动产权利人合法权益，"
    "对不动产权利人申请登记的本证所列不动产权利，经审查核实，准予登记，颁发此证。"
)

#: The corresponding statement of the 不动产登记证明 form.
STATEMENT_PROOF = (
    "根据《中华人民共和国民法典》等法律法规，对本证明所列不动产权利或登记事项，"
    "经审查核实，准予登记，颁发此证明。"
)


@dataclass(frozen=True)
class AgencyStamp:
    """What the PDF prints about the issuing agency (H-3.1)."""

    province: str  # "豫"
    county: str  # "潢川县"
    agency_name: str  # "潢川县自然资源局"
    seal_name: str  # "潢川县自然资源局不动产登记专用章"
    seal_number: str  # equals the physical seal's number (H-3.1)
    statement: str  # the statutory statement on the seal page


@dataclass(frozen=True)
class CertificateDocument:
    """One certificate version as it is rendered into a file.

    ``data`` holds the certificate data exactly as in the case document of CONTRACT.md;
    only names (never id numbers or phones) reach the printed page (H-5.2.3).
    """

    kind: str  # KIND_RIGHT or KIND_PROOF
    serial: str  # "豫(2026)潢川县不动产权第0000123号"
    licence_id: str  # GB/T 36904 electronic licence identifier
    print_number: str  # 编号 NO. on the seal page
    issued_at: datetime.datetime  # aware; the file's creation time
    data: Mapping[str, Any]
    verify_url: str  # "<public base>/v/<token>", carried by the QR code
    version: int
    record_digest: str  # SM3 hex of the registry record (H-5.2.2)
    agency: AgencyStamp

    @property
    def issued_on(self) -> datetime.date:
        """The issue date printed on the seal page: the day in China."""
        return self.issued_at.astimezone(CHINA_TIME).date()

    @property
    def title(self) -> str:
        """The printed title; raises ``ValueError`` for an unknown kind."""
        try:
            return KIND_TITLES[self.kind]
        except KeyError:
            raise ValueError(f"unknown certificate kind {self.kind!r}") from None
