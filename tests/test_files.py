"""Checks demos/files.py: only regular files are opened, reads are bounded, and downloads from a
local server land whole and verified, or not at all."""
from __future__ import annotations

import hashlib
import http.server
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from demos import files
from demos.files import DataError, open_file, open_maybe_gzip, read_at_most

BODIES = {"a.bin": bytes(range(256)) * 40, "b.txt": b"emma\nolivia\n" * 100}


def sha256s(bodies: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(body).hexdigest() for name, body in bodies.items()}


# --- opening and reading


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "FIFO"),
    (lambda p: p.symlink_to("/dev/zero"), "character device"),
    (lambda p: p.mkdir(), "folder"),
], ids=["fifo", "dev-zero", "folder"])
def test_what_is_not_a_regular_file_is_refused_before_reading(tmp_path: Path, make,
                                                              kind: str) -> None:
    path = tmp_path / "data"
    make(path)
    with pytest.raises(DataError, match=rf"not a regular file \({kind}\)") as e:
        open_file(path)  # a FIFO without a writer would block here if it were opened to read
    assert str(path) in str(e.value)


def test_a_missing_file_and_a_file_over_the_cap_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        open_file(tmp_path / "nowhere")
    path = tmp_path / "big"
    path.write_bytes(bytes(1001))
    with pytest.raises(DataError, match=r"big: 1,001 bytes, more than the 1,000 such a file"):
        open_file(path, max_bytes=1000)
    with open_file(path, max_bytes=1001) as f:
        assert f.read() == bytes(1001)


@pytest.mark.parametrize("gzipped", [False, True])
def test_open_maybe_gzip_reads_either(tmp_path: Path, gzipped: bool) -> None:
    import gzip

    body = BODIES["b.txt"]
    path = tmp_path / "f"
    path.write_bytes(gzip.compress(body) if gzipped else body)
    with open_maybe_gzip(path) as f:
        assert f.read() == body


def test_read_at_most_stops_at_the_size_it_is_given(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(3 << 20))
    with open(path, "rb") as f:
        assert len(read_at_most(f, (2 << 20) + 5)) == (2 << 20) + 5
        assert len(read_at_most(f, 10 << 20)) == (1 << 20) - 5  # what is left, no more


# --- downloads from a local server


@pytest.fixture
def serve():
    """start(files, cut=False, trickle=0) -> base URL of an HTTP server on 127.0.0.1 serving files.

    With cut=True it announces each file's full length but sends only half, then hangs up.
    With trickle > 0 it sends one byte every `trickle` seconds.
    """
    servers = []

    def start(bodies: dict[str, bytes], cut: bool = False, trickle: float = 0) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = bodies.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not trickle:
                    self.wfile.write(body[:len(body) // 2] if cut else body)
                    return
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(trickle)

            def log_message(self, *args):
                pass

        server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that gave up in the middle of a trickled body is what those tests want
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_download_verified_files(tmp_path: Path, serve) -> None:
    # The first mirror has nothing (404), so the second one must be used.
    mirrors = [serve({}), serve(BODIES)]
    folder = files.download(tmp_path / "cache", sha256s(BODIES), mirrors, verbose=False)
    assert {p.name: p.read_bytes() for p in folder.glob("[!.]*")} == BODIES


def test_download_wrong_checksum_keeps_nothing(tmp_path: Path, serve) -> None:
    wrong = dict.fromkeys(BODIES, "0" * 64)
    with pytest.raises(DataError, match="SHA-256 .* does not match"):
        files.download(tmp_path, wrong, [serve(BODIES)], verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_cut_download_keeps_nothing(tmp_path: Path, serve) -> None:
    with pytest.raises(DataError, match="connection cut after"):
        files.download(tmp_path, sha256s(BODIES), [serve(BODIES, cut=True)], verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_offline_every_mirror_is_named(tmp_path: Path) -> None:
    urls = [closed_port_url(), closed_port_url()]
    with pytest.raises(DataError, match="could not download a.bin") as e:
        files.download(tmp_path, sha256s(BODIES), urls, verbose=False)
    assert all(f"{url}a.bin" in str(e.value) for url in urls)


def test_a_trickling_server_is_given_up_on_at_the_total_timeout(tmp_path: Path, serve) -> None:
    url = serve(BODIES, trickle=0.02)  # each read returns within timeout, but the file never ends
    start = time.monotonic()
    with pytest.raises(DataError, match="ran out of time"):
        files.download(tmp_path, sha256s(BODIES), [url], timeout=2.0, total_timeout=0.5,
                       verbose=False)
    assert time.monotonic() - start < 0.5 + 2.0 + 1.0  # the deadline, one read, and slack
    assert list(tmp_path.iterdir()) == []


def count_hashing(monkeypatch) -> list[int]:
    """A list that grows by one each time demos.files starts a SHA-256."""
    hashed = []
    real_sha256 = hashlib.sha256

    def counting_sha256(*args):
        hashed.append(1)
        return real_sha256(*args)
    monkeypatch.setattr(files.hashlib, "sha256", counting_sha256)
    return hashed


def test_a_file_is_hashed_once_until_it_changes(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(BODIES["a.bin"])
    want = sha256s(BODIES)["a.bin"]
    hashed = count_hashing(monkeypatch)
    assert files.verified(path, want) and files.verified(path, want)
    assert len(hashed) == 1  # remembered by the marker beside the file
    path.write_bytes(BODIES["a.bin"][::-1])
    assert not files.verified(path, want) and len(hashed) == 2
