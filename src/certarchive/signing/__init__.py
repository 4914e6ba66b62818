"""Certificates and signature containers: what makes a file verifiable with standard tools.

``crypto/`` is the primitive layer (SM2, SM3, SM4, the keyring); this package builds the
standard structures on top of it, with asn1crypto for the ASN.1:

- :mod:`.algorithms`: the national algorithms' object identifiers, taught to asn1crypto;
- :mod:`.certificates`: X.509 v3 SM2 certificates and PKCS#10 requests (GM/T 0015);
- :mod:`.chain`: certificate path checks (no installed library checks SM2 signatures);
- :mod:`.authority`: the local demonstration CA that ``init`` creates;
- :mod:`.cms`: CMS SignedData with SM2 and SM3 (RFC 5652, GB/T 35275);
- :mod:`.signer`: one seal's key and chain, signing detached content.

``documents/`` only places the bytes made here into files.
"""
