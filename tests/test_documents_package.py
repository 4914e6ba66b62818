"""The package surface: cheap to import, and the incremental writer keeps the trailer whole."""

from __future__ import annotations

import subprocess
import sys

from certarchive.documents.model import KIND_RIGHT
from tests.test_documents_fixtures import revoked, run_tool, signed


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_the_package_loads_neither_reportlab_nor_pypdf() -> None:
    loaded = _loaded_after("import certarchive.documents")
    assert "reportlab" not in loaded and "pypdf" not in loaded


def test_the_verifier_does_not_load_the_renderer() -> None:
    loaded = _loaded_after("from certarchive.documents import verify_pdf")
    assert "reportlab" not in loaded
    assert "certarchive.documents.verify" in loaded


def test_updates_keep_the_document_information() -> None:
    """Each appended trailer still points at /Info, so viewers keep title and author."""
    for pdf in (signed(KIND_RIGHT), revoked(KIND_RIGHT)):
        info = run_tool(["pdfinfo", "{pdf}"], pdf).stdout
        assert "Title:           不动产权证书 豫(2026)潢川县不动产权第0000123号" in info
        assert "Author:          潢川县自然资源局" in info
        assert "Form:            AcroForm" in info
