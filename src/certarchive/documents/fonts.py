"""Find and register one CJK font for every text the certificate prints.

reportlab can embed (as a subset) only TrueType-flavoured fonts; CFF-flavoured OpenType
fonts such as the usual Noto CJK ``.ttc`` make it fail or print nothing, so each
candidate's outline flavour is checked before it is used.  Loading a CJK TrueType font
takes a few hundred milliseconds, so it happens once per process per path.  When no
usable file exists the built-in CID font ``STSong-Light`` keeps rendering possible: it
is not embedded, so viewers substitute a local font and the file is less faithful,
which is why that path logs a warning.
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

from certarchive.documents.sfnt import unhinted

log = logging.getLogger(__name__)

#: reportlab is not thread-safe: a TrueType font object keeps its read position while it
#: builds a document's subset, so two threads rendering at once corrupt each other's
#: subsets (seen as KeyError deep in ttfonts).  Everything that draws with reportlab
#: holds this lock; rendering is CPU-bound anyway, so a process loses no parallelism.
REPORTLAB_LOCK = threading.RLock()

#: Usual locations on Debian/Ubuntu, then other common systems, best first.
SYSTEM_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)

FALLBACK_CID_FONT = "STSong-Light"
_TRUETYPE_TAGS = (b"\x00\x01\x00\x00", b"true")


@dataclass(frozen=True)
class CJKFont:
    """A registered reportlab font name and the file behind it (``None`` for the CID font)."""

    name: str
    path: str | None

    @property
    def embedded(self) -> bool:
        """Whether the glyphs travel inside the PDF (only a TrueType file gives that)."""
        return self.path is not None


def truetype_flavoured(path: str | Path) -> bool:
    """Whether the font has TrueType outlines (for a collection: its first member, used here).

    Reads only the sfnt header: a ``ttcf`` collection points to one offset table per
    member, whose version tag is ``0x00010000``/``true`` for TrueType and ``OTTO`` for CFF.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            if head[:4] != b"ttcf":
                return head[:4] in _TRUETYPE_TAGS
            if len(head) < 16:
                return False
            (offset,) = struct.unpack(">I", head[12:16])
            fh.seek(offset)
            return fh.read(4) in _TRUETYPE_TAGS
    except OSError:
        return False


def _embed_unhinted(font: TTFont) -> None:
    """Make the subsets reportlab embeds from ``font`` leave out the glyphs' hinting
    (:func:`certarchive.documents.sfnt.unhinted`: a sixth of every subset, unused by PDF
    viewers).  reportlab builds a document's subsets in ``face.makeSubset``; the face
    belongs to this font object alone, so wrapping it there changes nothing else."""
    make_subset = font.face.makeSubset
    font.face.makeSubset = lambda subset: unhinted(make_subset(subset))


@functools.cache
def _register_truetype(path: str) -> str | None:
    """Load and register one TrueType file (once per process); its font name, or None."""
    name = f"CertCJK-{Path(path).stem}"
    try:
        font = TTFont(name, path, subfontIndex=0, asciiReadable=0)
        _embed_unhinted(font)
        pdfmetrics.registerFont(font)
    except Exception as exc:  # a corrupt file must not stop issuing certificates
        log.warning("cannot load CJK font %s: %s", path, exc)
        return None
    return name


@functools.cache
def cjk_font(configured_path: str | None = None) -> CJKFont:
    """Return the CJK font to print with, registering it with reportlab on first use.

    ``configured_path`` (from the site configuration) wins over the system locations.
    """
    candidates = ((configured_path,) if configured_path else ()) + SYSTEM_CANDIDATES
    for candidate in candidates:
        if not Path(candidate).is_file() or not truetype_flavoured(candidate):
            if candidate == configured_path:
                log.warning("configured CJK font %s is missing or not TrueType", candidate)
            continue
        name = _register_truetype(candidate)
        if name is not None:
            return CJKFont(name=name, path=candidate)
    log.warning("no TrueType CJK font found; using the non-embedded CID font %s", FALLBACK_CID_FONT)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return CJKFont(name=FALLBACK_CID_FONT, path=None)
