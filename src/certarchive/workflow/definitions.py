"""The two workflows of certarchive, as data.

Certificate (DESIGN.md, H-2, H-4): draft → issued → downloaded → archived, and revoked
(terminal) from issued, downloaded or archived.  Case file (Z-7, electronic flow):
received → recorded → paid → certified → filed.
"""

from __future__ import annotations

from certarchive.i18n import _
from certarchive.workflow.model import Guard, Transition, Workflow

CERTIFICATE = Workflow(
    name="certificate",
    states=("draft", "issued", "downloaded", "archived", "revoked"),
    initial="draft",
    transitions=(
        Transition(
            "issue",
            frozenset({"draft"}),
            "issued",
            # Z-1: the data meets the e-certificate rules; Z-4: only after payment.
            Guard("certificate.issue", conditions=("case_paid", "not_superseded")),
            _("签发"),
        ),
        Transition(
            "rollback",
            frozenset({"issued"}),
            "draft",
            # H-4.3: roll back only what the holder never downloaded.
            Guard("certificate.manage", conditions=("never_downloaded",)),
            _("回退"),
        ),
        Transition(
            "download",
            frozenset({"issued"}),
            "downloaded",
            Guard("certificate.download"),
            _("首次下载"),
        ),
        Transition(
            "archive",
            frozenset({"downloaded", "issued"}),
            "archived",
            # H-2.5: filed after the first download or a paper hand-over.
            Guard("case.file", conditions=("collected",)),
            _("归档"),
        ),
        Transition(
            "revoke",
            frozenset({"issued", "downloaded", "archived"}),
            "revoked",
            Guard("certificate.revoke"),
            _("注销"),
        ),
    ),
)

CASE = Workflow(
    name="case",
    states=("received", "recorded", "paid", "certified", "filed"),
    initial="received",
    transitions=(
        Transition("record", frozenset({"received"}), "recorded", Guard("case.write"), "登簿"),
        Transition("pay", frozenset({"recorded"}), "paid", Guard("case.write"), _("缴费")),
        Transition(
            "certify",
            frozenset({"paid"}),
            "certified",
            Guard("certificate.issue", conditions=("all_certificates_issued",)),
            _("出证"),
        ),
        Transition(
            "file",
            frozenset({"certified"}),
            "filed",
            # H-2.5: every live certificate was downloaded or handed over on paper.
            Guard("case.file", conditions=("all_certificates_collected",)),
            _("归档"),
        ),
    ),
)

WORKFLOWS = {w.name: w for w in (CERTIFICATE, CASE)}
