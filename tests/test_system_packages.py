"""``tools/ensure-system-packages``, which ``make run`` and ``make test`` run first: what
it does for a user who cannot install (as root it installs, which the suite's own set-up
shows every time it runs on a fresh machine)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "ensure-system-packages"


def as_a_user(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the script as a user who is not root (``nobody`` when the suite runs as root)."""
    prefix = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
    return subprocess.run(
        [*prefix, "env", *(f"{k}={v}" for k, v in env.items()), str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_user_is_told_exactly_what_to_install() -> None:
    result = as_a_user("test", CERTARCHIVE_SYSTEM_PACKAGES="qpdf certarchive-no-such-package")
    assert result.returncode == 1
    assert "missing Debian packages: certarchive-no-such-package" in result.stderr
    assert "apt-get install certarchive-no-such-package" in result.stderr
    assert "qpdf" not in result.stderr  # installed: not asked for


def test_nothing_missing_is_nothing_to_do() -> None:
    result = as_a_user("run", CERTARCHIVE_SYSTEM_PACKAGES="fonts-wqy-microhei")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_wrong_purpose_is_a_usage_error() -> None:
    result = as_a_user("serve")
    assert result.returncode == 2 and "usage" in result.stderr
