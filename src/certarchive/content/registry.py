"""The Registry: the site root in the ``main`` database, with its schema generation."""

from __future__ import annotations

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from ZODB.Connection import Connection

from certarchive.content.agency import Agency
from certarchive.content.folder import Folder
from certarchive.content.records import RecordLog

ROOT_KEY = "certarchive"


class Registry(Persistent):
    def __init__(self) -> None:
        self.agencies = Folder()  # agency name -> Agency
        self.users = Folder()  # user name -> User
        self.clients = Folder()  # key id -> ApiClient
        self.sessions = OOBTree()  # SM3 of a staff session id -> session record
        self.holder_attempts = OOBTree()  # blind index -> failed holder sign-ins
        self.evolved = RecordLog()  # evolve steps run, with their times
        self.generation = 0  # advanced by the named steps of content/evolve.py

    def agency(self, name: str) -> Agency:
        return self.agencies[name]


class RegistryMissing(Exception):
    """The database holds no registry yet: run ``certarchive init``."""


def get_registry(conn: Connection) -> Registry:
    registry = conn.root().get(ROOT_KEY)
    if registry is None:
        raise RegistryMissing("the database holds no registry: run `certarchive init` first")
    return registry
