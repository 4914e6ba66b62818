"""The refusals a service can answer with; the web layer maps them to HTTP statuses.

Messages name the problem, Chinese first, and never carry personal data or secrets.
"""

from __future__ import annotations

from certarchive.i18n import _


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """The request is well-formed but the object's state refuses it (e.g. H-4.3)."""

    status = 409
    code = "conflict"


class AgencyRequired(ServiceError):
    """Several agencies and none named: a command (or page) that needs one must not guess
    (the first in key order is an arbitrary county).  The command line exits 2."""

    status = 400
    code = "agency_required"

    def __init__(self, names: list[str]) -> None:
        listed = ", ".join(names)
        super().__init__(
            _("有多个登记机构（${listed}），请用 --agency 指定其一", mapping={"listed": listed}),
            {"agency": listed},
        )


class Invalid(ServiceError):
    """The input breaks a rule (Z-1, Z-3); ``fields`` names every bad field."""

    status = 422
    code = "invalid"


class Gone(ServiceError):
    """What was shared is no longer shared: withdrawn, or past its time."""

    status = 410
    code = "gone"
