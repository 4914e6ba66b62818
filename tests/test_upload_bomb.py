"""The upload that exhausted the server (#13): a file of under a kilobyte whose XMP packet
is ~18 million empty XML elements, deflated twice.  It cost 26 s of CPU and 1.7 GB per
request; now a real server answers it with a 4xx in well under a second, and its peak
memory hardly moves."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path
from typing import Any

from tests.servers import server_process

ELEMENTS = 18_000_000


def bomb_pdf() -> bytes:
    """A minimal PDF whose catalog's /Metadata is the double-deflated packet."""
    packet = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b"<a/>" * ELEMENTS + b"</x:xmpmeta>"
    data = zlib.compress(zlib.compress(packet, 9), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 3 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /Type /Metadata /Subtype /XML /Filter [/FlateDecode /FlateDecode] /Length "
        + str(len(data)).encode()
        + b" >>\nstream\n"
        + data
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), from the kernel."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (a busy machine does not inflate it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _upload(base: str, pdf: bytes) -> tuple[int, dict[str, Any]]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        base + "/verify",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
            "Accept-Language": "en",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    return status, json.loads(text)


def test_a_metadata_bomb_is_refused_quickly_and_cheaply(cli_run: Any, ini: Path) -> None:
    pdf = bomb_pdf()
    assert len(pdf) < 2048  # the attack file was 975 bytes
    assert cli_run("init").exit_code == 0
    with server_process(ini) as (base, server):
        urllib.request.urlopen(base + "/verify", timeout=30).close()  # warm: templates, fonts
        before, cpu = _peak_rss_kib(server.pid), _cpu_seconds(server.pid)
        status, answer = _upload(base, pdf)
        after, seconds = _peak_rss_kib(server.pid), _cpu_seconds(server.pid) - cpu
        assert status == 422, answer
        assert answer["error"] and "size limits" in answer["message"]
        assert "file" in answer["fields"]
        assert seconds < 1.0, seconds  # CPU seconds for the request (26 s before #13)
        assert after - before < 32 * 1024, (before, after)  # KiB: under 32 MiB more at peak
        with urllib.request.urlopen(base + "/healthz", timeout=5) as health:
            assert health.status == 200


def test_the_command_line_refuses_the_bomb_too(cli_run: Any, tmp_path: Path) -> None:
    assert cli_run("init").exit_code == 0
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb_pdf())
    started = time.monotonic()
    result = cli_run("verify", str(path))
    assert result.exit_code == 1 and "size limits" in result.output
    assert time.monotonic() - started < 5.0
