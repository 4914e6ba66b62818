"""The confirmation step in front of every staff action that cannot be undone (issue #17).

A staff form posts first without ``confirm=yes``: the answer is a page that says what
will happen, keeps everything typed (editable), and asks for the reason where the registry
keeps one; nothing changes.  Posting that page with ``confirm=yes`` runs the service.  A
refusal (bad input, or a state that does not allow it) shows the same page again with
each problem in words beside its field and the input kept; the request's transaction is
aborted (the refusal is an exception, so pyramid_tm aborts), and the refusal is audited
as every refusal is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config

from certarchive.i18n import _
from certarchive.services.errors import Invalid, ServiceError
from certarchive.views.errors import audit_refusal

REQUIRED = _("必填")
#: Refusals that are about the request's object or the actor, not about the form: they
#: answer with the ordinary error page.
NOT_FORM_PROBLEMS = (401, 403, 404)


class FormRefused(Exception):
    """A service refused a confirmed form: show the form again with the problems."""

    def __init__(self, values: dict[str, Any], refusal: ServiceError) -> None:
        super().__init__(refusal.message)
        self.values = values
        self.refusal = refusal


def posted(request: Request, name: str) -> str:
    value = request.POST.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def require(request: Request, *names: str) -> None:
    """The page's own rule: these fields must be filled (the reason the registry keeps)."""
    missing = {name: REQUIRED for name in names if not posted(request, name)}
    if missing:
        raise Invalid(_("请填写必填项"), missing)


def confirm_or_run(request: Request, values: dict[str, Any], run: Callable[[], Response]) -> Any:
    """The confirmation page, or (once confirmed) ``run()``'s answer; a form refusal from
    ``run`` becomes the same page with the problems beside their fields."""
    values = {"form": dict(request.POST.items()), "errors": {}, "message": None, **values}
    if posted(request, "confirm") != "yes":
        return render_to_response("confirm.jinja2", values, request=request)
    try:
        return run()
    except ServiceError as refused:
        if refused.status in NOT_FORM_PROBLEMS:
            raise
        raise FormRefused(values, refused) from None


@exception_view_config(FormRefused)
def form_refused(exc: FormRefused, request: Request) -> Response:
    refusal = exc.refusal
    audit_refusal(request, refusal.status, refusal.code)
    values = {**exc.values, "errors": refusal.fields, "message": refusal.message}
    response = render_to_response("confirm.jinja2", values, request=request)
    response.status = refusal.status
    response.headers["Cache-Control"] = "no-store"
    return response
