"""An Agency: one county registration centre with its settings, seal, cases and certificates.

A province may host several counties in one registry; each has its own serial
sequences, seal and staff scope.
"""

from __future__ import annotations

from typing import Any

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from certarchive.content.catalog import Catalog
from certarchive.content.folder import Folder

SETTING_KEYS = (
    "province",
    "county",
    "county_code",
    "agency_name",
    "seal_name",
    "seal_number",
    "serial_width",
    "statement",
    "statement_proof",
    "credit_code",
    "licence_type_right",
    "licence_type_proof",
)


class Seal(Persistent):
    """The agency's electronic seal (H-3.1, H-1.4).

    The private key is stored only as the keyring's ciphertext (purpose ``seal``); the
    public key is stored in clear so anyone can be given it to verify files offline.
    ``chains`` holds every certificate chain the key has had (H-5.1.1), oldest first, as
    plain records: ``{"chain": (DER, …) leaf first, "source": "demo"|"imported",
    "added_at": ISO time}``.  None is ever removed: files signed under a replaced or
    expired certificate keep verifying.
    """

    chains: tuple[dict[str, Any], ...] = ()  # seals from before certificates have none
    #: The GB/T 38540 electronic seal (SESeal, DER) that OFD signatures carry, and where it
    #: came from ("demo": made by the demonstration CA; "imported": an e-seal system's).
    #: Class defaults, so seals stored before OFD need no migration.
    eseal: bytes | None = None
    eseal_source: str | None = None

    def __init__(self, name: str, number: str, public_key: bytes, private_key_sealed: bytes):
        self.name = name
        self.number = number
        self.public_key = public_key
        self.private_key_sealed = private_key_sealed

    def add_chain(self, chain: tuple[bytes, ...], source: str, added_at: str) -> None:
        """Make ``chain`` the current one, keeping the earlier ones."""
        self.chains = (*self.chains, {"chain": chain, "source": source, "added_at": added_at})


class Agency(Persistent):
    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        missing = [key for key in SETTING_KEYS if key not in settings]
        if missing:
            raise ValueError(f"agency settings lack {', '.join(missing)}")
        self.name = name
        self.settings = {key: settings[key] for key in SETTING_KEYS}
        self.cases = Folder()
        self.certificates = Folder()
        self.catalog = Catalog()
        self.serial_counters = OOBTree()
        self.corrections = OOBTree()  # correction request id -> request (Z-5)
        self.seal: Seal | None = None

    def __repr__(self) -> str:
        return f"<Agency {self.name}>"
