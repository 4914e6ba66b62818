"""certarchive: issue, archive, verify and back up real-estate registration e-certificates.

``main`` is the PasteDeploy application factory: it validates the settings, opens the
keyring and the three databases, and wires Pyramid with one transaction per request
(pyramid_tm) retried on conflict (pyramid_retry).
"""

from __future__ import annotations

from typing import Any


def main(global_config: dict[str, Any], **settings: Any) -> Any:
    from certarchive.storage import restrict_new_files
    from certarchive.web import make_app

    restrict_new_files()  # a server started by pserve or another WSGI host, not the CLI
    return make_app(settings)
