"""An OFD package: its files by path, written as a zip and read back from outside, within limits.

A package received from outside (an upload to ``POST /verify``, a file given to
``certarchive verify``) is hostile until proved otherwise: before anything is inflated
the number of entries, every declared size and the total are checked, names must be
plain relative paths without ``..`` or duplicates, and inflating stops at the declared
size.  XML parts are parsed with entities and DTDs refused, and their depth and element
count are limited (:func:`parse_xml`).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping

from lxml import etree

from certarchive.i18n import _

#: Our packages have about 10 entries of a few hundred KB in all; a revoked one a few more.
MAX_ENTRIES = 200
MAX_ENTRY_BYTES = 16 * 2**20
MAX_TOTAL_BYTES = 48 * 2**20
MAX_XML_BYTES = 4 * 2**20
MAX_XML_DEPTH = 32
MAX_XML_ELEMENTS = 100_000
#: Fixed entry times keep the bytes of a package a function of its content.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    """The input is not an OFD package we can read; the message says why, Chinese first."""


def to_zip(files: Mapping[str, bytes]) -> bytes:
    """The package as a zip, entries in the given order, deflated, with fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=1)
    return buffer.getvalue()


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and all(part not in ("", ".", "..") for part in parts)
    )


def read_zip(data: bytes) -> dict[str, bytes]:
    """The files of a package from outside; :class:`PackageError` when it breaks a rule."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise PackageError(_("不是OFD文件（无法读取zip包）")) from None
    entries = [info for info in infos if not info.is_dir()]
    if len(infos) > MAX_ENTRIES:
        raise PackageError(
            _("OFD包的文件过多（多于${max_entries}个）", mapping={"max_entries": MAX_ENTRIES})
        )
    if any(info.file_size > MAX_ENTRY_BYTES for info in entries) or (
        sum(info.file_size for info in entries) > MAX_TOTAL_BYTES
    ):
        raise PackageError(_("OFD包超出大小限制"))
    files: dict[str, bytes] = {}
    for info in entries:
        if not _safe_name(info.filename) or info.filename in files:
            raise PackageError(
                _("OFD包中的文件名不合规：${filename}", mapping={"filename": repr(info.filename)})
            )
        try:
            with archive.open(info) as member:
                content = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError, zlib.error):
            raise PackageError(
                _("OFD包中的文件无法读取：${filename}", mapping={"filename": info.filename})
            ) from None
        if len(content) != info.file_size:
            raise PackageError(_("OFD包超出大小限制"))
        files[info.filename] = content
    return files


_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)


def parse_xml(data: bytes, name: str):
    """An XML part of a package, refused (:class:`PackageError`) past the limits."""
    if len(data) > MAX_XML_BYTES or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise PackageError(_("${name} 超出限制或含DTD", mapping={"name": name}))
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        raise PackageError(_("${name} 不是合规的XML", mapping={"name": name})) from None
    for count, node in enumerate(root.iter(), start=1):
        depth = sum(1 for _ in node.iterancestors())
        if count > MAX_XML_ELEMENTS or depth > MAX_XML_DEPTH:
            raise PackageError(_("${name} 超出XML限制", mapping={"name": name}))
    return root
