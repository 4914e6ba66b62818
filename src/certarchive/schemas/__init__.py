"""Request bodies declared once, with pydantic v2: the API validates with these models and
/api/openapi.json shows their JSON Schema, so the two cannot drift (issue #13, point 3).

Why pydantic: it is the most used and best kept of the three the issue names (colander
and marshmallow lack a maintained JSON Schema 2020-12 / OpenAPI 3.1 generator of their
own); its JSON Schema output is OpenAPI 3.1's dialect; custom rules plug in as
``Annotated`` validators whose errors carry our own "中文 / English" messages; and its
errors carry a ``loc`` path, from which :func:`.errors.validated` builds the contract's
``fields`` exactly as before.  Bodies moved here so far: payment, revocation, paper event,
rollback, re-issue, correction (the case document is still read by
:mod:`certarchive.validation.case`).
"""
