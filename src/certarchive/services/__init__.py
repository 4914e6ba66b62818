"""The service layer: every change to the registry, driven alike by the web views, the
command line and the tests.  Each public function runs inside one transaction and writes
its audit entry in that same transaction (H-5.2.4)."""
