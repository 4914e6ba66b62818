"""Who is asking: staff passwords and lockout, the admin's TOTP, server-side sessions, API keys.

Staff sign in with a password hashed by argon2 (:data:`certarchive.services.setup.PASSWORDS`).
Five failed attempts in a row lock the account for 15 minutes; the answer to the caller is
the same for a wrong password, a locked account and an unknown user, and an unknown user
costs the same argon2 verification, so neither the answer nor its timing tells which.
Admins also give a TOTP code (RFC 6238) whose secret is sealed under the keyring's
``personal`` key; a code is accepted once (its time step is remembered), and failed codes
count towards the same lockout.

Sessions live in the ``main`` database, in an OOBTree keyed by the SM3 digest of the
session id (a database reader cannot take over a session).  A session record is plain
data; it expires after 15 minutes idle or 8 hours in all (staff), and logout deletes it.
A new session id is made at every sign-in and at the TOTP step.

API keys look like ``ca_<key id>.<secret>``; the registry keeps the SM3 digest of the
secret and the client's scopes; a revoked client is refused.
"""

from __future__ import annotations

import hmac
import itertools
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError

from certarchive.content.principals import INSTITUTION_ROLE, ApiClient, User
from certarchive.content.registry import Registry
from certarchive.crypto.sm import sm3_hex
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, NotFound
from certarchive.services.permissions import client_actor, institution_actor, staff_actor
from certarchive.services.setup import CLIENT_KEY_PREFIX, PASSWORDS
from certarchive.workflow.engine import Actor

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
TOTP_ISSUER = "certarchive"
TOTP_ROLES = frozenset({"admin", "institution"})  # roles that must give a second factor

#: kind -> (idle timeout, absolute timeout)
SESSION_TIMEOUTS: dict[str, tuple[timedelta, timedelta]] = {
    "staff": (timedelta(minutes=15), timedelta(hours=8)),
    "pending": (timedelta(minutes=5), timedelta(minutes=5)),  # password given, TOTP not yet
    "holder": (timedelta(minutes=15), timedelta(hours=1)),
}
TOUCH_INTERVAL = timedelta(seconds=60)  # "seen" is rewritten at most this often
PURGE_BATCH = 200

# An argon2 hash of a random password: unknown users are verified against it so that
# they cost the same time as known ones.
_DUMMY_HASH = PASSWORDS.hash(secrets.token_urlsafe(16))
_DUMMY_KEY_HASH = sm3_hex(b"certarchive: no such client")


# --- staff passwords and lockout ------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    user: str | None = None
    needs_totp: bool = False
    totp_missing: bool = False  # an admin without an enrolled TOTP secret


def _user_label(user: User | None) -> str:
    # The typed name of an unknown user is never logged: people type passwords there.
    return f"user:{user.name}" if user is not None else "user:(unknown)"


def _locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _record_failure(ctx: Context, user: User, step: str) -> None:
    now = ctx.now()
    if user.locked_until is not None and user.locked_until <= now:
        user.locked_until = None
        user.failed_logins = 0
    user.failed_logins += 1
    detail: dict[str, Any] = {"step": step, "failures": user.failed_logins}
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = now + LOCK_TIME
        user.failed_logins = 0
        detail["locked_until"] = user.locked_until.isoformat()
    ctx.audit("login.failed", _user_label(user), result="refused", detail=detail)


def check_password(ctx: Context, name: str, password: str) -> LoginOutcome:
    """First step of a staff sign-in.  Failures are counted and audited in this transaction,
    so the caller must let the transaction commit (answer, do not raise)."""
    users = ctx.registry.users
    user = users.get(name) if isinstance(name, str) and 0 < len(name) <= 64 else None
    try:
        matches = PASSWORDS.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        matches = False
    if user is None:
        ctx.audit("login.failed", _user_label(None), result="refused", detail={"step": "password"})
        return LoginOutcome(False)
    if _locked(user, ctx.now()):
        ctx.audit("login.refused", _user_label(user), result="refused", detail={"step": "locked"})
        return LoginOutcome(False)
    if getattr(user, "disabled", False):
        ctx.audit("login.refused", _user_label(user), result="refused", detail={"step": "disabled"})
        return LoginOutcome(False)
    if not matches:
        _record_failure(ctx, user, "password")
        return LoginOutcome(False)
    if PASSWORDS.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORDS.hash(password)
    if user.role in TOTP_ROLES:
        if getattr(user, "totp_secret_sealed", None) is None:
            ctx.audit(
                "login.refused",
                _user_label(user),
                result="refused",
                detail={"step": "totp_not_enrolled"},
            )
            return LoginOutcome(False, user.name, totp_missing=True)
        return LoginOutcome(True, user.name, needs_totp=True)
    _login_succeeded(ctx, user)
    return LoginOutcome(True, user.name)


def _login_succeeded(ctx: Context, user: User) -> None:
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins = 0
        user.locked_until = None
    ctx.audit("login", _user_label(user), detail={"role": user.role})


def _totp_aad(user: User) -> bytes:
    return f"user:{user.name}:totp".encode()


def enroll_totp(ctx: Context, name: str) -> dict[str, str]:
    """Give user ``name`` a new TOTP secret; return it and its ``otpauth://`` URI once.

    For the command line (``certarchive user totp NAME`` or ``user add --role admin``):
    print the URI (or show it as a QR code) for the admin's authenticator app.  An earlier
    secret stops working.
    """
    ctx.require("admin.users")
    user = ctx.registry.users.get(name)
    if user is None:
        raise NotFound(_("用户不存在"))
    return set_totp(ctx, user)


def set_totp(ctx: Context, user: User) -> dict[str, str]:
    """:func:`enroll_totp` for a user the caller may manage (checked by the caller)."""
    name = user.name
    secret = pyotp.random_base32()
    user.totp_secret_sealed = ctx.keyring.encrypt("personal", secret.encode(), _totp_aad(user))
    user.totp_last_step = None
    ctx.audit("admin.user.totp", _user_label(user))
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)
    return {"name": name, "secret": secret, "uri": uri}


def check_totp(ctx: Context, name: str, code: str) -> bool:
    """Second step for admins: a current code (±30 s), each time step accepted once."""
    user = ctx.registry.users.get(name)
    sealed = getattr(user, "totp_secret_sealed", None) if user is not None else None
    if user is None or sealed is None:
        return False
    if _locked(user, ctx.now()):
        ctx.audit("login.refused", _user_label(user), result="refused", detail={"step": "locked"})
        return False
    totp = pyotp.TOTP(ctx.keyring.decrypt("personal", sealed, _totp_aad(user)).decode())
    code = (code or "").strip()
    now_step = totp.timecode(ctx.now())
    last = getattr(user, "totp_last_step", None)
    for step in (now_step - 1, now_step, now_step + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and (last is None or step > last):
            user.totp_last_step = step
            _login_succeeded(ctx, user)
            return True
    _record_failure(ctx, user, "totp")
    return False


def staff_user_actor(ctx: Context, name: str) -> Actor | None:
    user = ctx.registry.users.get(name)
    if user is None or getattr(user, "disabled", False):
        return None  # a disabled user's sessions stop working at once
    if user.role == INSTITUTION_ROLE:
        client = ctx.registry.clients.get(user.institution or "")
        if client is None or client.revoked:
            return None  # a revoked institution's clerks stop at once, as its keys do
        return institution_actor(user.name, client.scopes, client.agency, user.institution_admin)
    return staff_actor(user.name, user.role, user.agency)


# --- sessions ---------------------------------------------------------------------------


def _session_key(session_id: str) -> str:
    return sm3_hex(session_id.encode())


def _expired(record: dict[str, Any], now: datetime) -> bool:
    idle, absolute = SESSION_TIMEOUTS[record["kind"]]
    created = datetime.fromisoformat(record["created"])
    seen = datetime.fromisoformat(record["seen"])
    return now - seen > idle or now - created > absolute


def create_session(ctx: Context, kind: str, **payload: Any) -> tuple[str, dict[str, Any]]:
    """A new session of ``kind``; returns the id (for the cookie or bearer) and the record."""
    if kind not in SESSION_TIMEOUTS:
        raise ValueError(f"unknown session kind {kind!r}")
    tree = ctx.registry.sessions
    _purge_some(tree, ctx.now())
    prefix = "hs_" if kind == "holder" else "ss_"
    session_id = prefix + secrets.token_urlsafe(32)
    now = ctx.now().isoformat()
    record = {
        "kind": kind,
        "created": now,
        "seen": now,
        "csrf": secrets.token_urlsafe(24),
        **payload,
    }
    tree[_session_key(session_id)] = record
    return session_id, dict(record)


def load_session(ctx: Context, session_id: str | None) -> dict[str, Any] | None:
    """The live session with this id, its idle time refreshed; None if unknown or expired."""
    if not session_id or len(session_id) > 100:
        return None
    tree = ctx.registry.sessions
    key = _session_key(session_id)
    record = tree.get(key)
    if record is None:
        return None
    now = ctx.now()
    if _expired(record, now):
        del tree[key]
        return None
    if now - datetime.fromisoformat(record["seen"]) >= TOUCH_INTERVAL:
        record = dict(record, seen=now.isoformat())
        tree[key] = record
    return dict(record)


def end_session(ctx: Context, session_id: str | None) -> bool:
    tree = ctx.registry.sessions
    if not session_id:
        return False
    key = _session_key(session_id)
    if key in tree:
        del tree[key]
        return True
    return False


def delete_expired(
    tree: Any,
    expired: Callable[[dict[str, Any], datetime], bool],
    now: datetime,
    limit: int | None = None,
    records: Iterable[tuple[Any, dict[str, Any]]] | None = None,
) -> int:
    """Delete the records of ``tree`` that ``expired(record, now)`` says have run out:
    among ``records`` (default: the whole tree, in key order), at most ``limit`` of them.

    The keys are collected first (a BTree must not change under its own iteration), but
    lazily, so a sweep with a limit reads only as far as it needs to.
    """
    pairs = tree.items() if records is None else records
    expired_keys = (key for key, record in pairs if expired(record, now))
    doomed = dict.fromkeys(itertools.islice(expired_keys, limit))
    for key in doomed:
        del tree[key]
    return len(doomed)


def _purge_some(tree: Any, now: datetime) -> None:
    """Delete expired sessions, a batch at a time from a random place (amortised clean-up)."""
    start = secrets.token_hex(2)
    window = itertools.chain(tree.items(min=start), tree.items(max=start))
    delete_expired(tree, _expired, now, records=list(itertools.islice(window, PURGE_BATCH)))


def purge_expired_sessions(ctx: Context, limit: int) -> int:
    """Delete up to ``limit`` expired sessions; return how many went.

    Sign-ins sweep only a batch, and only when someone signs in; the periodic job sweeps
    the whole tree, so that a quiet server does not keep sessions that can no longer be
    used (each names a user or a holder's certificates).
    """
    return delete_expired(ctx.registry.sessions, _expired, ctx.now(), limit)


# --- API clients ------------------------------------------------------------------------


def authenticate_client(registry: Registry, key: str) -> ApiClient | None:
    """The live client whose key this is, or None (unknown, malformed, wrong or revoked)."""
    if not key.startswith(CLIENT_KEY_PREFIX) or len(key) > 200:
        return None
    key_id, dot, secret = key[len(CLIENT_KEY_PREFIX) :].partition(".")
    if not dot or not key_id.isalnum() or not secret:
        return None
    client = registry.clients.get(key_id)
    digest = sm3_hex(secret.encode())
    expected = client.key_hash if client is not None else _DUMMY_KEY_HASH
    if not hmac.compare_digest(digest, expected) or client is None or client.revoked:
        return None
    return client


def client_actor_for(client: ApiClient) -> Actor:
    return client_actor(client.name, client.scopes, getattr(client, "agency", None))


def list_clients(ctx: Context) -> list[dict[str, Any]]:
    ctx.require("admin.clients")
    return [
        {"key_id": c.key_id, "name": c.name, "scopes": list(c.scopes), "revoked": c.revoked}
        for c in ctx.registry.clients.values()
    ]


def revoke_client(ctx: Context, key_id: str, reason: str | None = None) -> dict[str, Any]:
    """Revoke an API client's key: every later call with it is refused (401).  The reason,
    when given (the admin's page asks for one), goes into the audit entry."""
    ctx.require("admin.clients")
    client = ctx.registry.clients.get(key_id) if isinstance(key_id, str) else None
    if client is None:
        raise NotFound(_("客户端不存在"))
    if client.revoked:
        raise Conflict(_("客户端已吊销"))
    client.revoked = True
    detail = {"key_id": key_id}
    if reason:
        detail["reason"] = reason[:500]
    ctx.audit("admin.client.revoke", f"client:{client.name}", detail=detail)
    return {"key_id": key_id, "name": client.name, "revoked": True}


def list_users(ctx: Context) -> list[dict[str, Any]]:
    ctx.require("admin.users")
    now = ctx.now()
    return [
        {
            "name": u.name,
            "role": u.role,
            "agency": u.agency,
            "locked": _locked(u, now),
            "locked_until": u.locked_until.isoformat() if _locked(u, now) else None,
            "totp": getattr(u, "totp_secret_sealed", None) is not None,
        }
        for u in ctx.registry.users.values()
    ]


def unlock_user(ctx: Context, name: str) -> None:
    ctx.require("admin.users")
    user = ctx.registry.users.get(name)
    if user is None:
        raise NotFound(_("用户不存在"))
    if not _locked(user, ctx.now()):
        raise Conflict(_("账户未被锁定"))
    user.locked_until = None
    user.failed_logins = 0
    ctx.audit("admin.user.unlock", _user_label(user))
