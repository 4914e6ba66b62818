"""Creating the registry, its agency and seal, users and API clients (``certarchive init``).

Everything here is idempotent where CONTRACT.md says so: ``init`` run twice changes
nothing the second time.
"""

from __future__ import annotations

import secrets
from typing import Any

from argon2 import PasswordHasher

from certarchive.audit.log import create_log
from certarchive.audit.queue import LOG_NAMES
from certarchive.config import AgencyConfig
from certarchive.content.agency import SETTING_KEYS, Agency, Seal
from certarchive.content.evolve import evolve
from certarchive.content.principals import ALL_ROLES, INSTITUTION_ROLE, SCOPES, ApiClient, User
from certarchive.content.registry import ROOT_KEY, Registry
from certarchive.crypto.sm import SM2PrivateKey, sm3_hex
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Invalid
from certarchive.services.permissions import SHARING_SCOPES
from certarchive.services.seals import ensure_seal_certificates, seal_aad

PASSWORDS = PasswordHasher()
CLIENT_KEY_PREFIX = "ca_"


def initialise(ctx: Context, config: AgencyConfig) -> list[str]:
    """Create whatever is missing; return what was created (empty when nothing was)."""
    created = []
    root = ctx.conn.root()
    if ROOT_KEY not in root:
        root[ROOT_KEY] = Registry()
        created.append("registry")
    for name in LOG_NAMES:
        if create_log(ctx.conn, name, ctx.keyring):
            created.append(f"{name} log")
    created += ensure_agency(ctx, config)
    created += [f"evolve step {name}" for name in evolve(ctx.conn, ctx.now())]
    created += ensure_seal_certificates(ctx)
    for item in created:
        ctx.audit("admin.init", item)
    return created


def add_agency(ctx: Context, config: AgencyConfig) -> list[str]:
    """A further county in a province-wide registry, with its own seal and serials."""
    registry = ctx.registry
    if config.name in registry.agencies:
        raise Conflict(_("登记机构已存在"))
    clash = [
        name
        for name in registry.agencies
        if registry.agencies[name].settings["county_code"] == config.county_code
    ]
    if clash:
        raise Conflict(_("行政区划代码已被 ${clash_0} 使用", mapping={"clash_0": clash[0]}))
    created = ensure_agency(ctx, config) + ensure_seal_certificates(ctx)
    for item in created:
        ctx.audit("admin.agency.add", item)
    return created


def ensure_agency(ctx: Context, config: AgencyConfig) -> list[str]:
    """Create the agency and its seal key if absent; return what was created."""
    created = []
    registry = ctx.conn.root()[ROOT_KEY]
    if config.name not in registry.agencies:
        settings: dict[str, Any] = {key: getattr(config, key) for key in SETTING_KEYS}
        registry.agencies.add(config.name, Agency(config.name, settings))
        created.append(f"agency {config.name}")
    agency = registry.agencies[config.name]
    if agency.seal is None:
        key = SM2PrivateKey.generate()
        agency.seal = Seal(
            config.seal_name,
            config.seal_number,
            key.public_key.to_bytes(),
            ctx.keyring.encrypt("seal", key.to_bytes(), seal_aad(agency)),
        )
        created.append(f"seal {config.seal_number}")
    return created


MIN_PASSWORD = 10


def add_user(
    ctx: Context,
    name: str,
    role: str,
    password: str,
    agency: str | None,
    institution: str | None = None,
    institution_admin: bool = False,
) -> None:
    """A staff user, or (role ``institution``) a clerk of the institution whose API client
    is ``institution`` (its key id, or its name if no other client has it): the clerk's
    agency is the client's."""
    problems = {}
    if not 2 <= len(name) <= 64 or not name.replace("_", "").replace("-", "").isalnum():
        problems["name"] = "2..64 letters, digits, '-' or '_'"
    if role not in ALL_ROLES:
        problems["role"] = "one of " + ", ".join(ALL_ROLES)
    if len(password) < MIN_PASSWORD:
        problems["password"] = f"at least {MIN_PASSWORD} characters"
    client = None
    if role == INSTITUTION_ROLE:
        client = _sharing_client(ctx, institution, problems)
        if agency is not None and client is not None and agency != client.agency:
            problems["agency"] = _("机构用户的登记机构即其客户端的")
    elif institution is not None or institution_admin:
        problems["institution"] = _("仅用于机构用户")
    if problems:
        raise Invalid(_("用户信息无效"), problems)
    registry = ctx.registry
    if name in registry.users:
        raise Conflict(_("用户已存在"))
    if agency is not None:
        ctx.agency(agency)
    user = User(name, role, PASSWORDS.hash(password), client.agency if client else agency)
    detail: dict[str, Any] = {"role": role}
    if client is not None:
        user.institution, user.institution_admin = client.key_id, institution_admin
        detail.update(institution=client.name, institution_admin=institution_admin)
    registry.users.add(name, user)
    ctx.audit("admin.user.add", f"user:{name}", detail=detail)


def _sharing_client(ctx: Context, wanted: str | None, problems: dict[str, str]) -> ApiClient | None:
    """The live sharing client named by key id or unique name, or None with the problem
    noted: clerks sign in only for institutions that read and download (H-N2)."""
    clients = ctx.registry.clients
    found = clients.get(wanted) if wanted else None
    if found is None and wanted:
        named = [c for c in clients.values() if c.name == wanted and not c.revoked]
        found = named[0] if len(named) == 1 else None
    if found is None or found.revoked:
        problems["institution"] = _("没有这个有效的接口客户端")
        return None
    if not set(found.scopes) <= SHARING_SCOPES:
        problems["institution"] = _("只有查看、下载证照的机构可有机构用户")
        return None
    return found


def add_client(
    ctx: Context, name: str, scopes: list[str], agency: str | None = None
) -> dict[str, Any]:
    """Create an API client; its key is returned once and stored only as a hash."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if not scopes or unknown:
        raise Invalid(_("权限范围无效"), {"scope": "one or more of " + ", ".join(SCOPES)})
    if not 2 <= len(name) <= 64:
        raise Invalid(_("名称无效"), {"name": "2..64 characters"})
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{CLIENT_KEY_PREFIX}{key_id}.{secret}"
    if agency is not None:
        ctx.agency(agency)
    client = ApiClient(name, key_id, sm3_hex(secret.encode()), tuple(scopes), agency)
    ctx.registry.clients.add(key_id, client)
    ctx.audit("admin.client.add", f"client:{name}", detail={"scopes": sorted(scopes)})
    return {"name": name, "key": key, "scopes": list(scopes)}
