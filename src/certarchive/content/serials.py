"""Gapless serial numbers in issuance order (H-1.6).

One counter per agency, kind and year.  The counter deliberately has no conflict
resolution: two transactions that both take the next number conflict, one is retried,
and because the number is taken inside the issuing transaction an aborted issue gives
its number back.  That is what makes the sequence gapless and free of duplicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistent import Persistent

from certarchive.validation.identifiers import Serial, format_serial

if TYPE_CHECKING:
    from certarchive.content.agency import Agency


class SerialCounter(Persistent):
    def __init__(self) -> None:
        self.last = 0

    def take(self) -> int:
        self.last += 1
        return self.last


def _counter(agency: Agency, kind: str, year: int) -> SerialCounter:
    key = f"{kind}:{year}"
    counter = agency.serial_counters.get(key)
    if counter is None:
        counter = agency.serial_counters[key] = SerialCounter()
    return counter


def continue_after(agency: Agency, serial: Serial) -> None:
    """A certificate issued on paper under ``serial`` (import-existing): its year's
    sequence goes on after the highest such number (H-1.6), never reusing one."""
    counter = _counter(agency, serial.kind, serial.year)
    if serial.seq > counter.last:
        counter.last = serial.seq


def next_serial(agency: Agency, kind: str, year: int) -> str:
    counter = _counter(agency, kind, year)
    settings = agency.settings
    return format_serial(
        settings["province"],
        year,
        settings["county"],
        kind,
        counter.take(),
        settings["serial_width"],
    )
