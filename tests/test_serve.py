"""`pfnconsole serve`: loopback by default, a warning for any other address, a clear word
without the extra, and a page served on a free loopback port (a browser test is still to
come: see the README)."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pfnconsole import serve as serve_mod


def test_each_tab_gets_a_state_directory_of_its_own_and_the_lesson():
    cmd = serve_mod.command("6")
    assert 'XDG_STATE_HOME="$(mktemp -d)"' in cmd and cmd.endswith("-m pfnconsole tui --lesson 6")


def test_another_address_is_served_only_with_a_warning(monkeypatch):
    pytest.importorskip("textual_serve")
    started = []

    class FakeServer:
        def __init__(self, command, host, port, title):
            started.append((command, host, port))

        def serve(self):
            pass

    monkeypatch.setattr("textual_serve.server.Server", FakeServer)
    err = io.StringIO()
    assert serve_mod.serve("127.0.0.1", 8123, None, err) == 0 and "warning" not in err.getvalue()
    err = io.StringIO()
    assert serve_mod.serve("192.0.2.7", 8123, None, err) == 0
    assert "warning" in err.getvalue() and "anyone who can reach it" in err.getvalue()
    assert [h for _, h, _ in started] == ["127.0.0.1", "192.0.2.7"]
    assert serve_mod.serve("127.0.0.1", 0, None, io.StringIO()) == 2


def test_without_the_extra_it_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    err = io.StringIO()
    assert serve_mod.serve("127.0.0.1", 8123, None, err) == 2
    assert "pip install 'pfnconsole[serve]'" in err.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_page_is_served_on_loopback():
    pytest.importorskip("textual_serve")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pfnconsole", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    page = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "pfnconsole" in page and "ws" in page  # the terminal page and its websocket
    finally:
        proc.terminate()
        proc.wait(timeout=10)
