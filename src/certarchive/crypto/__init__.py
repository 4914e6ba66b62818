"""The national algorithms (SM2, SM3, SM4) and the keys that use them.

Every SM algorithm call in certarchive goes through :mod:`certarchive.crypto.sm`,
which the official test vectors pin; :mod:`certarchive.crypto.keyring` manages the
keys (key-encryption key, per-purpose data keys, rotation).
"""
