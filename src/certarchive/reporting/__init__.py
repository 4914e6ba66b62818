"""Reports to the city data bureau's e-licence library (H-2.1, H-4.2, H-4.4; CONTRACT.md
"Reporting to the e-licence library").

Every issuance, revocation and re-issue queues one report in the transaction that makes
it, as a message of the ``library`` channel in the holders' message outbox
(:mod:`certarchive.messaging.outbox`): what is queued is only a reference (the
certificate, its data version, which file), so that the issuing transaction stays cheap.
When the report is due, the serving process builds the catalogue entry from the registry
(:mod:`.catalogue`), validates it against :mod:`certarchive.schemas.reporting`, and posts
it (:mod:`.channel`) outside any transaction; the answer is recorded in another.  Reports
of one licence go strictly in order, are retried with back-off until a 2xx under the same
event id, and a 4xx stops the report until a registrar sends it again
(:mod:`certarchive.services.reporting`).
"""
