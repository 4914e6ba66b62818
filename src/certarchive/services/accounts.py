"""What admins do to staff accounts day to day: disable and enable, change a role, reset a
password.  The command line (``certarchive user …``) and the admin's page both call these,
so the rules and the audit entries are the same whichever door is used.

Rules that keep a registry administrable: nobody disables or demotes themselves, and the
last enabled admin is never disabled or demoted (no one could sign in to undo it).  A
disabled user cannot sign in and their open sessions end at once (the session is looked
up on every request, see :func:`certarchive.services.identity.staff_user_actor`); a reset
password ends them too.  Passwords follow :func:`certarchive.services.setup.add_user`'s
rule and are never logged.
"""

from __future__ import annotations

from typing import Any

from certarchive.content.principals import INSTITUTION_ROLE, ROLES, User
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.services.identity import enroll_totp
from certarchive.services.setup import MIN_PASSWORD, PASSWORDS


def is_disabled(user: User) -> bool:
    return bool(getattr(user, "disabled", False))


def _user(ctx: Context, name: str) -> User:
    ctx.require("admin.users")
    user = ctx.registry.users.get(name) if isinstance(name, str) else None
    if user is None:
        raise NotFound(_("用户不存在"))
    return user


def _enabled_admins(ctx: Context) -> list[str]:
    return [u.name for u in ctx.registry.users.values() if u.role == "admin" and not is_disabled(u)]


def _guard_self_and_last_admin(ctx: Context, user: User, what: str) -> None:
    if user.name == ctx.actor.name:
        raise Conflict(_SELF[what])
    if user.role == "admin" and _enabled_admins(ctx) == [user.name]:
        raise Conflict(_LAST_ADMIN[what])


_SELF = {"停用": _("不能停用自己的账户"), "更改角色": _("不能更改自己的账户的角色")}
_LAST_ADMIN = {
    "停用": _("这是唯一启用的管理员，不能停用，请先添加另一名管理员"),
    "更改角色": _("这是唯一启用的管理员，不能更改其角色，请先添加另一名管理员"),
}


def end_user_sessions(ctx: Context, name: str) -> int:
    """Delete every session of staff user ``name`` (the tree holds only live sign-ins)."""
    tree = ctx.registry.sessions
    doomed = [key for key, record in tree.items() if record.get("user") == name]
    for key in doomed:
        del tree[key]
    return len(doomed)


def disable_user(ctx: Context, name: str, reason: str = "") -> None:
    user = _user(ctx, name)
    _guard_self_and_last_admin(ctx, user, "停用")
    disable_account(ctx, user, reason)


def disable_account(ctx: Context, user: User, reason: str = "") -> None:
    """Disable ``user`` (whom the caller may manage), ending its sessions, audited."""
    if is_disabled(user):
        raise Conflict(_("账户已停用"))
    user.disabled = True
    ended = end_user_sessions(ctx, user.name)
    ctx.audit(
        "admin.user.disable",
        f"user:{user.name}",
        detail={"reason": reason[:500] or None, "sessions_ended": ended},
    )


def enable_user(ctx: Context, name: str) -> None:
    enable_account(ctx, _user(ctx, name))


def enable_account(ctx: Context, user: User) -> None:
    if not is_disabled(user):
        raise Conflict(_("账户未停用"))
    user.disabled = False
    ctx.audit("admin.user.enable", f"user:{user.name}")


def change_role(ctx: Context, name: str, role: str) -> dict[str, str] | None:
    """Give ``name`` another role; one who becomes an admin gets a TOTP secret, returned
    once (as ``user add --role admin`` prints it), since admins sign in with a second
    factor."""
    user = _user(ctx, name)
    if role not in ROLES:
        raise Invalid(_("角色无效"), {"role": "one of " + ", ".join(ROLES)})
    if role == user.role:
        raise Conflict(_("该用户已是此角色（${role}）", mapping={"role": role}))
    if user.role == INSTITUTION_ROLE:
        raise Conflict(_("机构用户不能改为工作人员角色"))
    if user.role == "admin":
        _guard_self_and_last_admin(ctx, user, "更改角色")
    elif user.name == ctx.actor.name:
        raise Conflict(_("不能更改自己的角色"))
    before, user.role = user.role, role
    ended = end_user_sessions(ctx, name)  # a session carries the role it signed in with
    ctx.audit(
        "admin.user.role",
        f"user:{name}",
        detail={"before": before, "after": role, "sessions_ended": ended},
    )
    if role == "admin" and getattr(user, "totp_secret_sealed", None) is None:
        return enroll_totp(ctx, name)
    return None


def check_new_password(password: Any, confirmation: Any = None) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(
            _("密码至少${min_password}个字符", mapping={"min_password": MIN_PASSWORD}),
            {"password": f"at least {MIN_PASSWORD} characters"},
        )
    if confirmation is not None and confirmation != password:
        raise Invalid(
            _("两次输入的密码不一致"),
            {"password_again": _("须与密码相同")},
        )
    return password


def reset_password(ctx: Context, name: str, password: str) -> None:
    """Set a new password, to be handed to the user in person (there is no self-service
    reset by e-mail or SMS to take over); ends the user's sessions and lifts a lock."""
    user = _user(ctx, name)
    check_new_password(password)
    user.password_hash = PASSWORDS.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    ended = end_user_sessions(ctx, name)
    ctx.audit("admin.user.password", f"user:{name}", detail={"sessions_ended": ended})


def user_rows(ctx: Context) -> list[dict[str, Any]]:
    """:func:`identity.list_users` with each account's enabled state, for the admin's page."""
    from certarchive.services.identity import list_users

    rows = list_users(ctx)
    users = ctx.registry.users
    return [dict(row, disabled=is_disabled(users[row["name"]])) for row in rows]
