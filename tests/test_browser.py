"""`pfnconsole serve` in a real browser: headless Chromium opens the page, the console
starts in it, a command typed through the page is answered there (the terminal's output
arrives over the page's websocket, read through the DevTools protocol).

Skipped where no Chromium is installed, except in CI (``PFNCONSOLE_REQUIRE_BROWSER=1``,
set by .ci/run, which installs the distribution's package when it is missing)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REQUIRED = os.environ.get("PFNCONSOLE_REQUIRE_BROWSER") == "1"
BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


async def test_a_command_typed_in_the_browser_is_answered(tmp_path: Path):
    if BROWSER is None:
        if REQUIRED:
            pytest.fail("PFNCONSOLE_REQUIRE_BROWSER=1 but no Chromium is installed")
        pytest.skip("no Chromium here")
    try:
        import aiohttp  # textual-serve's own dependency
    except ImportError:
        if REQUIRED:
            pytest.fail("PFNCONSOLE_REQUIRE_BROWSER=1 but the serve extra is not installed")
        pytest.skip("the serve extra is not installed")
    port, devtools = _free_port(), _free_port()
    server = subprocess.Popen([sys.executable, "-m", "pfnconsole", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    browser = subprocess.Popen([BROWSER, "--headless=new", "--no-sandbox", "--disable-gpu",
                                f"--remote-debugging-port={devtools}", f"--user-data-dir={tmp_path}",
                                "--window-size=1280,900", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        _wait_http(f"http://127.0.0.1:{devtools}/json/version")
        new = urllib.request.Request(f"http://127.0.0.1:{devtools}/json/new?http://127.0.0.1:{port}/",
                                     method="PUT")
        with urllib.request.urlopen(new, timeout=5) as r:
            target = json.loads(r.read())
        frames: list[str] = []
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 10_000))

            async def send(method: str, **params: object) -> None:
                await ws.send_json({"id": next(ids), "method": method, "params": params})

            async def until(words: str, seconds: float) -> bool:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    try:
                        msg = await asyncio.wait_for(ws.receive(), timeout=0.5)
                    except TimeoutError:
                        continue
                    d = json.loads(msg.data)
                    if d.get("method") == "Network.webSocketFrameReceived":
                        r = d["params"]["response"]
                        data = r["payloadData"]
                        frames.append(base64.b64decode(data).decode("utf-8", "replace")
                                      if r.get("opcode") == 2 else data)
                    if words in "".join(frames):
                        return True
                return False

            await send("Network.enable")
            await send("Page.enable")
            assert await until("type a command", 30), "the console did not start in the page"
            for kind in ("mousePressed", "mouseReleased"):  # focus the terminal
                await send("Input.dispatchMouseEvent", type=kind, x=640, y=760, button="left", clickCount=1)
            await asyncio.sleep(0.5)
            frames.clear()
            for ch in "page 0x100600":
                await send("Input.dispatchKeyEvent", type="keyDown", key=ch, text=ch)
                await send("Input.dispatchKeyEvent", type="keyUp", key=ch)
            await send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                       windowsVirtualKeyCode=13, text="\r")
            await send("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter",
                       windowsVirtualKeyCode=13)
            assert await until("struct page", 20), "no answer to the typed command"
            assert "0xffffea0004018000" in "".join(frames)  # pfn_to_page(0x100600) on the default machine
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(timeout=10)
        server.wait(timeout=10)
