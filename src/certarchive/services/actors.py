"""Who did it, in words a clerk reads: the actor names of a certificate's history, versions
and paper events resolved to a staff user and role, an API client's name, or the holder
among the certificate's holders ("权利人 张*（第1权利人）", masked, H-5.2.3).

Holders act under a pseudonymous label (a prefix of the keyed digest of their ID number,
:func:`.holders.label_of`), so which co-holder collected is found by computing each
holder's label, never by storing who they are beside the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.services.certdata import read_data
from certarchive.services.context import Context
from certarchive.services.holders import label_of
from certarchive.validation.identifiers import mask_name


def actor_names(
    ctx: Context, cert: Certificate | None, actors: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """``{actor: {"kind", "name", "role"?, "number"?}}`` for each actor string; holders
    are looked up among ``cert``'s (a case's history has none)."""
    ctx.require("certificate.read")
    wanted = set(actors)
    holders: dict[str, tuple[int, dict[str, Any]]] = {}
    if cert is not None and any(actor.startswith("holder:") for actor in wanted):
        for number, holder in enumerate(read_data(ctx, cert).get("holders", ()), 1):
            label = label_of(ctx.keyring.blind_index(holder["id_number"]))
            holders[f"holder:{label}"] = (number, holder)
    return {actor: _named(ctx, actor, holders) for actor in wanted}


def _named(
    ctx: Context, actor: str, holders: dict[str, tuple[int, dict[str, Any]]]
) -> dict[str, Any]:
    if actor.startswith("client:"):
        return {"kind": "client", "name": actor.removeprefix("client:")}
    if actor.startswith("holder:"):
        if actor not in holders:  # a holder since removed by a correction
            return {"kind": "holder", "name": "", "number": None}
        number, holder = holders[actor]
        return {
            "kind": "holder",
            "name": mask_name(holder["name"], holder["id_type"]),
            "number": number,
        }
    user = ctx.registry.users.get(actor)
    if user is not None:
        return {"kind": "staff", "name": user.name, "role": user.role}
    return {"kind": "system", "name": actor}
