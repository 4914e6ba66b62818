"""The per-transaction context every service function receives.

It gives access to the registry, the acting principal, the clock and the two logs, and
it is the one place that writes audit entries, so that every change is recorded in the
same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from BTrees.OOBTree import OOBTree
from ZODB.Connection import Connection

from certarchive.audit.entry import make_entry
from certarchive.audit.log import get_log
from certarchive.audit.queue import enqueue, get_outbox
from certarchive.content.agency import Agency
from certarchive.content.registry import Registry, get_registry
from certarchive.i18n import _
from certarchive.services.errors import AgencyRequired, Forbidden, NotFound
from certarchive.storage import changes_pending
from certarchive.validation.identifiers import mask_identifiers_in
from certarchive.workflow.engine import Actor

if TYPE_CHECKING:
    from certarchive.services.issuance import PaperIssue
    from certarchive.services.runtime import Runtime


def utc_now() -> datetime:
    return datetime.now(UTC)


class Context:
    def __init__(
        self,
        runtime: Runtime,
        conn: Connection,
        actor: Actor,
        request_id: str | None = None,
        client: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.runtime = runtime
        self.conn = conn
        self.actor = actor
        self.request_id = request_id
        self.client = client
        self._clock = clock
        #: Certificates issued on paper before (import-existing), by id: what issuing
        #: one in this transaction takes instead of a new serial, time and files.
        self.paper_issues: dict[str, PaperIssue] = {}

    @property
    def registry(self) -> Registry:
        return get_registry(self.conn)

    @property
    def keyring(self) -> Any:
        return self.runtime.keyring

    @property
    def engine(self) -> Any:
        return self.runtime.engine

    def now(self) -> datetime:
        return self._clock()

    def agency(self, name: str | None = None) -> Agency:
        """The named agency (default: the actor's, or the only one) if the actor may see it.

        An agency outside the actor's scope answers exactly like a missing one.  With
        several agencies and none named, AgencyRequired: never the first in key order.
        """
        registry = self.registry
        if name is None and self.actor.agency is None:
            names = list(registry.agencies.keys())
            if len(names) > 1:
                raise AgencyRequired(names)
            name = names[0] if names else None
        elif name is None:
            name = self.actor.agency
        agency = registry.agencies.get(name) if name else None
        if agency is None or (self.actor.agency not in (None, name)):
            raise NotFound(_("登记机构不存在"))
        return agency

    def visible_agencies(self) -> list[Agency]:
        """The agencies the actor may see: its own, or every one for a province-wide actor."""
        if self.actor.agency is not None:
            return [self.agency(self.actor.agency)]
        registry = self.registry
        return [registry.agencies[name] for name in registry.agencies]

    def require(self, permission: str) -> None:
        if permission not in self.actor.permissions:
            raise Forbidden(
                _(
                    "无权限（${role}，${permission}）",
                    mapping={"role": self.actor.role, "permission": permission},
                )
            )

    def _queue(self, log: str) -> OOBTree:
        """Where this entry waits until it is sequenced (``certarchive.audit_queue``).

        With ``main``, an entry whose transaction changes the main database waits in its
        outbox: one commit holds change and entry.  An entry written by a transaction that
        changes nothing else there (a refusal, a bank's read, an auditor's read) waits in
        its log's own database instead: a commit of that database alone, and the main
        database's last transaction id keeps meaning "the registry changed", which the
        page cache relies on.  Either way the entry commits with its transaction."""
        if self.runtime.settings.audit_queue == "main" and changes_pending(self.conn):
            return get_outbox(self.conn).queue(log)
        return get_log(self.conn, log).pending

    def audit(
        self,
        action: str,
        obj: str,
        before: str | None = None,
        after: str | None = None,
        result: str = "ok",
        detail: dict[str, Any] | None = None,
        log: str = "audit",
    ) -> None:
        """Append one entry to the audit (or sharing) log in this transaction.

        ``obj`` may come from a URL the caller typed (a refused or shared call): an ID
        number or phone number there is masked before it reaches the log (H-5.2.3)."""
        enqueue(
            self._queue(log),
            make_entry(
                time=self.now().isoformat(),
                actor=self.actor.name,
                role=self.actor.role,
                action=action,
                object=mask_identifiers_in(obj),
                before=before,
                after=after,
                result=result,
                request_id=self.request_id,
                client=self.client,
                detail=detail,
            ),
        )
