"""Worker processes that render and sign imported certificates (``--workers N``).

Rendering and signing are CPU-bound and touch no database, so N processes do them
while the importing process commits.  Each worker opens the keyring itself, from the
configured keys folder and the passphrase variable it inherits, exactly as the server
does: only the seal key still sealed under the keyring's ``seal`` key crosses the pipe
(:class:`~certarchive.services.seals.SealMaterial`), so the clear key exists only inside
processes that could read the key files anyway, and nothing about it is logged.
Processes are spawned, not forked: the importing process holds open databases and
threads that a fork would copy half-way.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from certarchive.crypto.keyring import Keyring, KeyringError
from certarchive.services.existing import AgencyImport, Line
from certarchive.services.issuance import SignedFile, document_of, signed_files
from certarchive.services.runtime import keyring_passphrase


@dataclass(frozen=True)
class RenderSetup:
    """What every worker needs, sent once when it starts."""

    keys_dir: Path
    agencies: Mapping[str, AgencyImport]  # by county code
    formats: tuple[str, ...]
    font_path: str | None
    public_base_url: str


_setup: RenderSetup | None = None
_keyring: Keyring | KeyringError | None = None


def _start(setup: RenderSetup) -> None:
    """Each worker: the setup kept, its own keyring opened; Ctrl-C left to the importing
    process, which stops the pool (committed lines stay, the rest waits for a rerun).
    A keyring that does not open is kept as the error, raised by the first rendering in
    the importing process: a failing initializer would make the pool start workers
    forever."""
    global _setup, _keyring
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _setup = setup
    try:
        _keyring = Keyring.open(setup.keys_dir, keyring_passphrase())
    except KeyringError as error:
        _keyring = error


def render_line(line: Line) -> tuple[Mapping[str, SignedFile], ...]:
    """The files of every certificate of ``line``, signed now (in a worker)."""
    assert _setup is not None and _keyring is not None, "runs in a started worker"
    if isinstance(_keyring, KeyringError):
        raise _keyring
    return files_of(_setup, _keyring, line)


def files_of(
    setup: RenderSetup, keyring: Keyring, line: Line
) -> tuple[Mapping[str, SignedFile], ...]:
    agency = setup.agencies[line.case_no.split("-")[1]]
    seal = agency.seal.signer(keyring)
    now = datetime.now(UTC)
    return tuple(
        signed_files(
            document_of(agency.settings, setup.public_base_url, issued),
            setup.formats,
            setup.font_path,
            seal,
            agency.seseal,
            now,
        )
        for issued in line.issued()
    )


def pool(workers: int, setup: RenderSetup) -> multiprocessing.pool.Pool:
    """``workers`` spawned processes ready to :func:`render_line`."""
    return multiprocessing.get_context("spawn").Pool(workers, _start, (setup,))
