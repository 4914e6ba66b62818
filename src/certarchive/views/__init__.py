"""Pyramid views: the JSON API, staff pages, holder downloads and public verification."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("healthz", "/healthz")
    config.scan("certarchive.views")
