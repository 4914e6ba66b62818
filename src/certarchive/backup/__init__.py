"""Encrypted, signed, incremental backup snapshots of the three databases (H-5.2.7).

A snapshot is read through the ZODB storage API (transaction iterator and ``loadBlob``), so
FileStorage, ZEO and RelStorage are backed up by the same code.  Each database's
transactions become one plaintext stream (:mod:`.stream`), cut into SM4-GCM chunks named
by their SM3 (:mod:`.chunks`, :mod:`.repository`); a manifest signed with SM2 lists the
chunks and chains to its predecessor (:mod:`.manifest`).  The backup key (:mod:`.keys`) is
not a data key: it opens the snapshot, while certificate data and files inside it remain
ciphertexts under the registry's data keys.

Modules: :mod:`.export`, :mod:`.verify`, :mod:`.restore`, :mod:`.census` (what a restored
registry must look like), :mod:`.drill`.
"""
