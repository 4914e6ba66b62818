"""Pyramid wiring: settings, runtime, transactions, the database connection per request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid_retry import BeforeRetry

from certarchive.config import load_settings
from certarchive.services.runtime import ATTEMPTS, Runtime, backoff
from certarchive.views.inputs import UrlGuard
from certarchive.views.page_cache import PageCacheMiddleware


def _connection(request: Request) -> Any:
    """The ``main`` connection for this request, joined to the request's transaction."""
    conn = request.registry.runtime.db.open(transaction_manager=request.tm)
    request.add_finished_callback(lambda _request: conn.close())
    return conn


def _back_off(event: BeforeRetry) -> None:
    """Wait a random, growing while before a retried request, so that requests that
    conflicted on the same object (a serial counter) do not collide again at once."""
    backoff(event.environ["retry.attempt"] + 1)


def make_app(raw_settings: Mapping[str, Any], runtime: Runtime | None = None) -> Any:
    settings = dict(raw_settings)
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("retry.attempts", str(ATTEMPTS))
    if runtime is None:
        runtime = Runtime.open(load_settings(settings))
        runtime.require_current_schema()
    with Configurator(settings=settings) as config:
        config.registry.runtime = runtime
        config.include("pyramid_retry")
        config.add_subscriber(_back_off, BeforeRetry)
        config.include("pyramid_tm")
        config.add_request_method(_connection, "conn", reify=True)
        config.include("certarchive.views")
        return UrlGuard(PageCacheMiddleware(config.make_wsgi_app()))
