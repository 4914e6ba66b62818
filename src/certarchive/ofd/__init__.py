"""The certificate as an OFD package (GB/T 33190), sealed with a GB/T 38540 signature.

* :mod:`.writer` turns a certificate version into the package's files, from the same
  page description as the PDF (:mod:`certarchive.documents.pagemodel`);
* :mod:`.content` writes one page's ``Content.xml``; :mod:`.fontsubset` the embedded font;
* :mod:`.package` holds the files and reads a package from outside, within limits;
* :mod:`.sign` seals a package as GB/T 33190 §18 says; :mod:`.verify` checks one.
"""
