"""The e-certificate file: PDF pages, QR code, seal image, signature, watermark (H-1, H-5.1).

The public surface is re-exported here lazily: importing the package costs nothing,
and reportlab or pypdf load only when a function that needs them is first used (the
verification web page should not pay for the renderer).

Flow: :func:`render_certificate` → :func:`sign_pdf` on issue; :func:`stamp_revoked` on
revocation; :func:`verify_pdf` and :func:`read_metadata` / :func:`compare_metadata`
anywhere, offline, with the seal's public key.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AgencyStamp": "model",
    "CertificateDocument": "model",
    "render_certificate": "render",
    "sign_pdf": "signature",
    "stamp_revoked": "watermark",
    "Revocation": "stampdict",
    "verify_pdf": "verify",
    "VerificationReport": "verify",
    "SignatureResult": "verify",
    "certificate_metadata": "metadata",
    "read_metadata": "metadata",
    "compare_metadata": "metadata",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
