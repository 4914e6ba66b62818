"""Persistent content: the Registry root, Agencies, CaseFiles and Certificates.

Everything here is plain ZODB persistence (BTrees, ``persistent``); nothing here knows
about HTTP, keys or PDF.  The service layer (:mod:`certarchive.services`) is what
changes content, always together with an audit entry.
"""
