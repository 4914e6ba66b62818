"""The staff pages' main menu: one table of links, each shown to whoever holds the
permission its page's view requires, so that a menu never leads to a 403 (issue #17:
auditors saw the clerks' pages, backup operators' menus led to refusals).
tests/test_web_menu.py opens every link of every role's menu as that role."""

from __future__ import annotations

from dataclasses import dataclass

from certarchive.i18n import _
from certarchive.workflow.engine import Actor


@dataclass(frozen=True)
class MenuItem:
    href: str
    label: str
    permission: str | None  # None: a public page


MENU = (
    MenuItem("/staff", _("工作台"), "desk.read"),
    MenuItem("/staff/filing", _("归档队列"), "desk.read"),
    MenuItem("/staff/corrections", _("更正申请"), "desk.read"),
    MenuItem("/staff/reports", _("证照库上报"), "certificate.manage"),
    MenuItem("/institution", _("证照查询"), "institution.lookup"),
    MenuItem("/institution/clerks", _("本机构用户"), "institution.users"),
    MenuItem("/staff/audit", _("审计日志"), "audit.read"),
    MenuItem("/staff/admin", _("系统管理"), "admin.users"),
    MenuItem("/staff/backups", _("数据备份"), "backup.status"),
    MenuItem("/verify", _("证照验证"), None),
)

#: The search box in the menu bar (the clerks' search page).
SEARCH_PERMISSION = "desk.read"


def menu_for(actor: Actor) -> list[MenuItem]:
    return [item for item in MENU if item.permission in (None, *actor.permissions)]
