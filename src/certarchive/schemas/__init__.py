"""Request and response bodies declared once, with pydantic v2: the services validate
requests with these models, /api/openapi.json is generated from them, and tests validate
the server's real answers against them, so the three cannot drift (issue #13, point 3).

Why pydantic: it is the most used and best kept of the three the issue names (colander
and marshmallow lack a maintained JSON Schema 2020-12 / OpenAPI 3.1 generator of their
own); its JSON Schema output is OpenAPI 3.1's dialect; custom rules plug in as
``Annotated`` validators whose errors carry our own "中文 / English" messages; and its
errors carry a ``loc`` path, from which :mod:`.errors` builds the contract's ``fields``
exactly as before.

:mod:`.case` the case document (its GB/T checks call :mod:`certarchive.validation.
identifiers`); :mod:`.bodies` the other request bodies; :mod:`.answers` and
:mod:`.public` the answers; :mod:`.rules` cross-field rules checked in the same pass as
the fields; :mod:`.types` shared field types; :mod:`.errors` the contract's ``fields``.
"""
