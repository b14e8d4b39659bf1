"""``ripple app`` serves the browser app on the address and port given."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from sim.cli import APP_SCRIPT, app_command_line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_line_is_local_headless_and_private() -> None:
    command = app_command_line(8501, "127.0.0.1", headless=True)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT)]
    text = " ".join(command)
    assert "--server.address 127.0.0.1 --server.port 8501" in text
    assert "--server.headless true" in text and "--browser.gatherUsageStats false" in text


def test_ripple_app_serves_the_app() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                    assert reply.read() == b"ok"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "ripple app did not start within 60 s"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            assert b"<title>" in reply.read().lower() or reply.status == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    assert f"Ripple app: http://127.0.0.1:{port}" in output
