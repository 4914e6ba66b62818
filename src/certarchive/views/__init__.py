"""Pyramid views: the JSON API, staff pages, holder downloads and public verification.

Everything is reached through URL dispatch (routes), listed here in one place: the JSON
API under /api/v1 (documented by /api/openapi.json, :mod:`.openapi`), the public
verification pages /v/ and /verify, the staff pages under /staff, the holder pages under
/holder.  Authorization is the actor's permissions (:mod:`.security`), checked by
Pyramid for each view and again by the services; what an actor may not see answers 404.
"""

from __future__ import annotations

import json

from pyramid.config import Configurator
from pyramid.events import BeforeRender
from pyramid.renderers import JSON
from pyramid.tweens import EXCVIEW, INGRESS

from certarchive.i18n import TRANSLATION_DIRS, locale_negotiator, localized_json
from certarchive.services.context import utc_now
from certarchive.services.ratelimit import RateLimiter
from certarchive.views import security
from certarchive.views.i18n import renderer_globals
from certarchive.views.inputs import form_deriver
from certarchive.views.page_cache import PageCache
from certarchive.views.settings import load_web_settings

#: New download codes asked for one ID number: at most 3 an hour (per process).
HOLDER_CODE_RATE = (3, 3600.0)

#: route name -> pattern.  Order matters where patterns overlap (/v/{token}.json first).
ROUTES = (
    # operations
    ("healthz", "/healthz"),
    ("openapi", "/api/openapi.json"),
    # upstream registration system, staff and institutions (JSON)
    ("api.cases", "/api/v1/cases"),
    ("api.case", "/api/v1/cases/{case_no}"),
    ("api.case.payment", "/api/v1/cases/{case_no}/payment"),
    ("api.case.file", "/api/v1/cases/{case_no}/file"),
    ("api.case.documents", "/api/v1/cases/{case_no}/documents"),
    ("api.case.document", "/api/v1/cases/{case_no}/documents/{number}"),
    ("api.filing_queue", "/api/v1/filing-queue"),
    ("api.certificate", "/api/v1/certificates/{serial}"),
    ("api.certificate.pdf", "/api/v1/certificates/{serial}/pdf"),
    ("api.certificate.ofd", "/api/v1/certificates/{serial}/ofd"),
    ("api.certificate.history", "/api/v1/certificates/{serial}/history"),
    ("api.certificate.versions", "/api/v1/certificates/{serial}/versions"),
    ("api.certificate.version", "/api/v1/certificates/{serial}/versions/{number}"),
    ("api.certificate.rollback", "/api/v1/certificates/{serial}/rollback"),
    ("api.certificate.issue", "/api/v1/certificates/{serial}/issue"),
    ("api.certificate.reissue", "/api/v1/certificates/{serial}/reissue"),
    ("api.certificate.revoke", "/api/v1/certificates/{serial}/revoke"),
    ("api.certificate.paper", "/api/v1/certificates/{serial}/paper"),
    # auditors (JSON)
    ("api.audit.entries", "/api/v1/audit/{log}/entries"),
    ("api.audit.checkpoint", "/api/v1/audit/{log}/checkpoint"),
    ("api.audit.inclusion", "/api/v1/audit/{log}/proofs/inclusion"),
    ("api.audit.consistency", "/api/v1/audit/{log}/proofs/consistency"),
    # backup operators (JSON)
    ("api.backups", "/api/v1/backups"),
    ("api.backups.verify", "/api/v1/backups/verify"),
    ("api.backups.drill", "/api/v1/backups/drill"),
    ("api.backups.job", "/api/v1/backups/jobs/{job}"),
    # holders (JSON)
    ("api.holder.session", "/api/v1/holder/session"),
    ("api.holder.code", "/api/v1/holder/code"),
    ("api.holder.wechat", "/api/v1/holder/wechat"),
    ("api.holder.shares", "/api/v1/holder/shares"),
    ("api.holder.share", "/api/v1/holder/shares/{share_id}"),
    ("api.holder.certificates", "/api/v1/holder/certificates"),
    ("api.holder.certificate.pdf", "/api/v1/holder/certificates/{serial}/pdf"),
    ("api.holder.certificate.ofd", "/api/v1/holder/certificates/{serial}/ofd"),
    # the public
    ("home", "/"),
    ("verify.token.json", "/v/{token}.json"),
    ("verify.token", "/v/{token}"),
    ("verify.upload", "/verify"),
    ("share.code", "/s"),
    ("share.token", "/s/{token}"),
    # staff pages
    ("login", "/login"),
    ("login.totp", "/login/totp"),
    ("logout", "/logout"),
    ("language", "/language/{code}"),
    ("staff.dashboard", "/staff"),
    ("staff.search", "/staff/search"),
    ("staff.filing", "/staff/filing"),
    ("staff.case", "/staff/cases/{case_no}"),
    ("staff.case.file", "/staff/cases/{case_no}/file"),
    ("staff.case.documents", "/staff/cases/{case_no}/documents"),
    ("staff.case.document", "/staff/cases/{case_no}/documents/{number}"),
    ("staff.certificate", "/staff/certificates/{serial}"),
    ("staff.certificate.pdf", "/staff/certificates/{serial}/pdf"),
    ("staff.certificate.ofd", "/staff/certificates/{serial}/ofd"),
    ("staff.certificate.file", "/staff/certificates/{serial}/files/{format}/{number}"),
    ("staff.certificate.action", "/staff/certificates/{serial}/{action}"),
    ("staff.corrections", "/staff/corrections"),
    ("staff.correction.close", "/staff/corrections/{request_id}/close"),
    ("staff.admin", "/staff/admin"),
    ("staff.admin.clients", "/staff/admin/clients"),
    ("staff.admin.client.revoke", "/staff/admin/clients/{key_id}/revoke"),
    ("staff.admin.users", "/staff/admin/users"),
    ("staff.admin.user.action", "/staff/admin/users/{name}/{action}"),
    ("staff.backups", "/staff/backups"),
    ("staff.reports", "/staff/reports"),
    ("staff.report.resend", "/staff/reports/{report_id}/resend"),
    ("staff.audit", "/staff/audit"),
    ("staff.audit.export", "/staff/audit/export"),
    ("staff.audit.entry", "/staff/audit/{log}/{seq}"),
    ("staff.backups.start", "/staff/backups/{kind}"),
    # institutions' clerks (因特网从业端)
    ("institution", "/institution"),
    ("institution.download", "/institution/certificates/{serial}/{file_format}"),
    ("institution.clerks", "/institution/clerks"),
    ("institution.clerk.action", "/institution/clerks/{name}/{action}"),
    # holder pages
    ("holder", "/holder"),
    ("holder.certificates", "/holder/certificates"),
    ("holder.download", "/holder/certificates/{serial}/download"),
    ("holder.shares", "/holder/shares"),
    ("holder.share.withdraw", "/holder/shares/{share_id}/withdraw"),
)


def includeme(config: Configurator) -> None:
    settings = config.registry.settings
    # The transaction's user note would resolve the identity (a database read) on every
    # request, static files included; the audit log records who did what instead.
    settings["tm.annotate_user"] = False
    settings.setdefault("jinja2.directories", "certarchive:templates")
    settings.setdefault("jinja2.autoescape", "true")
    web = load_web_settings(settings)
    config.registry.web_settings = web
    config.registry.clock = utc_now
    config.registry.rate_limits = {
        "verify": RateLimiter(*web.verify_rate),
        "holder": RateLimiter(*web.holder_rate),
        "login": RateLimiter(*web.login_rate),
        "holder_code": RateLimiter(*HOLDER_CODE_RATE),
    }

    # JSON as UTF-8 text a person can read (不动产, not \u4e0d\u52a8\u4ea7), everywhere.
    # Messages in a JSON answer are given in the request's language.
    config.add_renderer("json", localized_json(JSON(serializer=json.dumps, ensure_ascii=False)))
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    config.add_subscriber(renderer_globals, BeforeRender)
    config.set_locale_negotiator(locale_negotiator)
    config.add_translation_dirs(TRANSLATION_DIRS)

    config.set_security_policy(security.SecurityPolicy())
    config.add_request_method(security.request_id, "request_id", reify=True)
    config.add_request_method(security.client_address, "client_address", reify=True)
    config.add_request_method(security.request_context, "ctx", reify=True)
    config.add_view_deriver(security.csrf_deriver)
    # Outside the CSRF check, which reads the form: an unreadable form is 400 first.
    config.add_view_deriver(form_deriver, over="csrf_deriver")

    config.registry.page_cache = PageCache(web.verify_cache_seconds, web.verify_cache_entries)
    config.add_tween("certarchive.views.tweens.security_headers_factory", under=INGRESS)
    config.add_tween(
        "certarchive.views.page_cache.page_cache_factory",
        under="certarchive.views.tweens.security_headers_factory",
        over="pyramid_tm.tm_tween_factory",
    )
    config.add_tween(
        "certarchive.views.tweens.sharing_log_factory",
        under="pyramid_tm.tm_tween_factory",
        over=EXCVIEW,
    )

    config.add_static_view("static", "certarchive:static", cache_max_age=3600)
    for name, pattern in ROUTES:
        config.add_route(name, pattern)
    config.scan("certarchive.views")
