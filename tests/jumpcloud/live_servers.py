"""Real local servers for the live-mode tests: one answering a canned status and body to
every request (counting them), a port nothing listens on, and one that accepts connections
but never answers; plus a runner for an inner pytest session pointed at one of them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Canned:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0


@contextmanager
def canned_server(answer: Canned) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` answering ``answer`` to everything; ``answer.hits`` counts."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer.hits += 1
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        do_PUT = do_POST = do_DELETE = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL whose port was just free (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def silent_server() -> Iterator[str]:
    """A listening socket that never accepts: connections complete, no answer ever comes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def run_inner(
    tmp_path: Path, source: str, *args: str, key: str, plugins: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``source`` as a test file in a child pytest with ``args`` and the key set."""
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPCLOUD_")}
    env.update({"PYTHONPATH": str(REPO), "JUMPCLOUD_API_KEY": key})
    loads = [arg for plugin in plugins for arg in ("-p", plugin)]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", *loads, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
