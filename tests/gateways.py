"""Small HTTP servers, each in a process of its own, standing for what certarchive talks to
and cannot reach here: an SMS gateway (CONTRACT.md's protocol) and the WeChat official
account platform (its published token and template-message calls).

    python -m tests.gateways sms|wechat PORT FOLDER

The server writes every request it receives, as one JSON line, to ``FOLDER/received``
and answers as ``FOLDER/mode`` says at that moment:

- ``ok``: accept (SMS: 202; WeChat: errcode 0);
- ``fail``: refuse (SMS: 503; WeChat: errcode 45009, "rate limited");
- ``lost``: record the message as received, then close without answering (the answer
  is lost on its way back);
- ``silent``: read the request and answer nothing for 30 seconds.

WeChat: ``GET /cgi-bin/token`` hands out ``token-N`` (N counting up, ``expires_in`` 7200);
``FOLDER/stale`` holding a token makes the platform refuse it with errcode 40001.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_handler(kind: str, folder: Path) -> type[BaseHTTPRequestHandler]:
    tokens = {"issued": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet: the test reads `received`
            pass

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if kind == "wechat" and url.path == "/cgi-bin/token":
                tokens["issued"] += 1
                self._answer(200, {"access_token": f"token-{tokens['issued']}", "expires_in": 7200})
            else:
                self._answer(404, {"errcode": 404})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            mode = (folder / "mode").read_text().strip()
            stale = folder / "stale"
            if (
                kind == "wechat"
                and stale.exists()
                and query.get("access_token") == stale.read_text()
            ):
                self._answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
                return
            record = {
                "path": url.path,
                "authorization": self.headers.get("Authorization"),
                "token": query.get("access_token"),
                "body": body,
                "mode": mode,
            }
            with (folder / "received").open("a", encoding="utf-8") as log:
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
            if mode == "lost":
                self.close_connection = True
                return
            if mode == "silent":
                time.sleep(30)
                return
            if kind == "sms":
                self._answer(202 if mode == "ok" else 503, {"id": body.get("id")})
            else:
                self._answer(200, {"errcode": 0 if mode == "ok" else 45009})

    return Handler


def main() -> None:
    kind, port, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(kind, folder))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
