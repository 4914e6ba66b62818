"""The periodic job of a serving process: sequencing the logs, delivering due messages to
holders (:mod:`certarchive.messaging`) and reports to the e-licence library
(:mod:`certarchive.reporting`), and sweeping expired records.

Requests only queue their audit entries (see :mod:`certarchive.audit.queue`); this
thread moves them every few seconds into the Merkle log and signs a checkpoint, so that
entries become provable soon after they are written.  Several processes may run it: their
integrations conflict, and ZODB retries the loser, which then finds nothing to do.

Less often it deletes what has run out: expired sessions (sign-ins sweep only a batch)
and holder sign-in attempts whose memory window and lock have passed (nothing else ever
deleted those).  Such a record acts exactly like no record, so deleting it changes no
outcome.  A sweep that deleted anything writes one audit entry, ``system.purge``, with
the counts (no entry per record: the log would fill with housekeeping).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from certarchive.messaging.delivery import Courier
from certarchive.services.audit import sequence_logs
from certarchive.services.context import Context
from certarchive.services.holders import purge_expired_attempts
from certarchive.services.identity import purge_expired_sessions
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime

log = logging.getLogger(__name__)

SWEEP_EVERY = 300.0  # seconds between sweeps of expired records
SWEEP_LIMIT = 5000  # records of each kind deleted per sweep: one short transaction


def purge_expired(ctx: Context) -> dict[str, int]:
    """Delete expired sessions and holder sign-in attempts, in one transaction with its
    audit entry."""
    purged = {
        "sessions": purge_expired_sessions(ctx, SWEEP_LIMIT),
        "holder_attempts": purge_expired_attempts(ctx, SWEEP_LIMIT),
    }
    if any(purged.values()):
        ctx.audit("system.purge", "registry", detail=purged)
    return purged


def _run(runtime: Runtime, what: str, fn: Callable[[Runtime], Any]) -> Any:
    try:
        return fn(runtime)
    except Exception as exc:  # keep serving; the next round tries again
        log.warning("%s failed: %s", what, type(exc).__name__)
        return None


def start_sequencer(
    runtime: Runtime, interval: float, sweep_every: float = SWEEP_EVERY
) -> threading.Event:
    """Start the daemon thread; set the returned event to stop it.  The first sweep runs
    on the first round, so a restarted server clears what ran out while it was down."""
    stop = threading.Event()
    messaging = runtime.settings.messaging
    reporting = runtime.settings.reporting.configured
    courier = Courier(runtime, messaging) if messaging.channels or reporting else None

    def loop() -> None:
        next_sweep = 0.0
        while not stop.wait(interval):
            _run(runtime, "log sequencing", sequence_logs)
            if courier is not None:
                _run(runtime, "message delivery", lambda _runtime: courier.deliver())
            if time.monotonic() >= next_sweep:
                purged = _run(
                    runtime, "purging expired records", lambda rt: rt.run(purge_expired, SYSTEM)
                )
                if purged and any(purged.values()):
                    log.info("purged expired records: %s", purged)
                next_sweep = time.monotonic() + sweep_every

    threading.Thread(target=loop, name="certarchive-sequencer", daemon=True).start()
    return stop
