"""Sequencing the logs in the background of a serving process.

Requests only queue their audit entries (see :mod:`certarchive.audit.log`); this thread
integrates them every few seconds into the Merkle log and signs a checkpoint, so that
entries become provable soon after they are written.  Several processes may run it: their
integrations conflict, and ZODB retries the loser, which then finds nothing to do.
"""

from __future__ import annotations

import logging
import threading

from certarchive.services.audit import integrate_logs
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime

log = logging.getLogger(__name__)


def start_sequencer(runtime: Runtime, interval: float) -> threading.Event:
    """Start the daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                runtime.run(integrate_logs, SYSTEM)
            except Exception as exc:  # keep serving; the next round tries again
                log.warning("log sequencing failed: %s", type(exc).__name__)

    threading.Thread(target=loop, name="certarchive-sequencer", daemon=True).start()
    return stop
