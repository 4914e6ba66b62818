"""The ``certarchive`` command line (CONTRACT.md): exit 0 success, 1 refused, 2 usage."""
