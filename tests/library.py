"""A small HTTP server, in a process of its own, standing for the city data bureau's
e-licence library (CONTRACT.md "Reporting to the e-licence library").

    python -m tests.library PORT FOLDER

It takes ``POST`` of a report with ``Authorization: Bearer KEY`` (``FOLDER/key``), writes
each request it receives as one JSON line to ``FOLDER/received`` and answers as
``FOLDER/mode`` says at that moment (each line also holds the size and SM3 of the body as
it arrived, to match against certarchive's sharing log):

- ``ok``: accept (201);
- ``refuse``: 422 with a JSON answer naming what it refuses (as a library checks a
  catalogue entry);
- ``fail``: 503;
- ``lost``: record the report, then close without answering;
- ``silent``: read the report and answer nothing for 30 seconds;
- ``slow``: answer 201 after 2 seconds.

A wrong key is refused with 401 whatever the mode.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from certarchive.crypto.sm import sm3_hex

MAX_BODY = 64 * 2**20


def make_handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet: the test reads `received`
            pass

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            if length > MAX_BODY:
                self._answer(413, {"error": "too large"})
                return
            raw = self.rfile.read(length)
            body = json.loads(raw or b"{}")
            mode = (folder / "mode").read_text().strip()
            authorization = self.headers.get("Authorization")
            record = {"path": self.path, "authorization": authorization, "body": body}
            record |= {"mode": mode, "at": time.time(), "size": len(raw), "sm3": sm3_hex(raw)}
            with (folder / "received").open("a", encoding="utf-8") as log:
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
            if authorization != f"Bearer {(folder / 'key').read_text().strip()}":
                self._answer(401, {"error": "unknown key"})
            elif mode == "lost":
                self.close_connection = True
            elif mode == "silent":
                time.sleep(30)
            elif mode == "refuse":
                self._answer(422, {"error": "证照类型代码未登记 / type_code not registered"})
            elif mode == "fail":
                self._answer(503, {"error": "maintenance"})
            else:
                if mode == "slow":
                    time.sleep(2)
                self._answer(201, {"accepted": body.get("id")})

    return Handler


def main() -> None:
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(folder))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
