"""Workflows as data (:mod:`.definitions`) run by one engine (:mod:`.engine`)."""
