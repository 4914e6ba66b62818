"""The Registry: the site root in the ``main`` database, with its schema generation."""

from __future__ import annotations

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from ZODB.Connection import Connection

from certarchive.content.agency import Agency
from certarchive.content.folder import Folder
from certarchive.content.records import RecordLog
from certarchive.content.shares import ShareBook
from certarchive.messaging.outbox import Outbox

ROOT_KEY = "certarchive"


class DemoAuthority(Persistent):
    """The local demonstration CA (names saying 演示 / DEMO) that certifies seals until a
    registration centre imports certificates from a real CA: its root certificate (DER)
    and its key, stored only as the keyring's ciphertext."""

    def __init__(self, certificate: bytes, key_sealed: bytes) -> None:
        self.certificate = certificate
        self.key_sealed = key_sealed


class Registry(Persistent):
    demo_authority: DemoAuthority | None = None  # created when the first seal needs it

    def __init__(self) -> None:
        self.agencies = Folder()  # agency name -> Agency
        self.users = Folder()  # user name -> User
        self.clients = Folder()  # key id -> ApiClient
        self.sessions = OOBTree()  # SM3 of a staff session id -> session record
        self.holder_attempts = OOBTree()  # blind index -> failed holder sign-ins
        self.evolved = RecordLog()  # evolve steps run, with their times
        self.shares = ShareBook()  # holders' shares with institutions (授权用证)
        self.messages = Outbox()  # messages to holders waiting for their channels (Z-4)
        self.wechat_bindings = OOBTree()  # keyed digest of an ID number -> sealed openid
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
