"""A headless Chromium driven over the DevTools protocol (a small websocket client).

Used by the dashboard's end-to-end test and by scripts/dashboard_screenshot.py. Loopback
only; every wait is bounded; the browser (and its profile directory) is always cleaned up.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

__all__ = ["Chromium", "DashboardServer", "find_chromium", "wait_http", "press_play", "press_pause",
           "JS_DAY", "JS_CHARTS", "JS_GRAPH", "JS_CLICK", "BUTTONS"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def wait_http(url: str, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers 200 (bounded by ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError as e:
            last = e
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


class Chromium:
    """``with Chromium() as b: b.open(url); b.eval("1+1"); b.screenshot(path)``."""

    def __init__(self, width: int = 1500, height: int = 1100, timeout: float = 30.0):
        self.width, self.height, self.timeout = width, height, timeout
        self.proc: subprocess.Popen | None = None
        self.ws = None
        self._id = 0
        self._profile = None

    def __enter__(self) -> Chromium:
        import websocket  # websocket-client

        exe = find_chromium()
        if exe is None:
            raise RuntimeError("no chromium on PATH (scripts/setup.sh installs Debian's `chromium`)")
        self._profile = tempfile.mkdtemp(prefix="qunsim-chromium-")
        args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--mute-audio",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                f"--user-data-dir={self._profile}", f"--window-size={self.width},{self.height}",
                "about:blank"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=self.timeout,
                                              suppress_origin=True)
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            self.ws = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.proc = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # -------------------------------------------------------------------- protocol
    def call(self, method: str, **params):
        self._id += 1
        my = self._id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
        raise TimeoutError(f"{method}: no answer within {self.timeout} s")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def eval(self, expression: str):
        """Evaluate JavaScript in the page and return its (JSON-able) value."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JavaScript error: {r['exceptionDetails'].get('text')}: {expression[:80]}")
        return r.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, poll: float = 0.25):
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.eval(expression)
            if v:
                return v
            time.sleep(poll)
        raise TimeoutError(f"not true within {timeout:.0f} s: {expression[:120]}")

    def screenshot(self, path: str | Path | None = None) -> bytes:
        """A PNG of the page's viewport (written to ``path`` if given)."""
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        if path is not None:
            Path(path).write_bytes(data)
        return data


class DashboardServer:
    """``qunsim dashboard`` in a subprocess on a free loopback port; always stopped on exit."""

    def __init__(self, *args: str, timeout: float = 120.0):
        import socket
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        root = Path(__file__).resolve().parents[1]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(root / "src") + os.pathsep + env.get("PYTHONPATH", "")
        self.cmd = [sys.executable, "-m", "qunsim.cli", "dashboard", *args, "--port", str(self.port)]
        self.env, self.cwd, self.timeout = env, root, timeout
        self.proc = None
        self.log = tempfile.TemporaryFile()

    def __enter__(self) -> DashboardServer:
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(self.url, self.timeout)
        except TimeoutError:
            self.__exit__()
            raise RuntimeError(f"the dashboard did not start: {self.output()[-2000:]}") from None
        return self

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=15)


# JavaScript read-outs of the page's state
JS_DAY = ("(() => { const t = document.querySelector('.qunsim-levers'); if (!t) return null;"
          " const m = t.innerText.match(/Day (\\d+)/); return m ? parseInt(m[1]) : null; })()")
JS_CHARTS = "Array.from(document.querySelectorAll('.vega-embed canvas')).map(c => c.toDataURL().length + ':' + c.toDataURL().slice(-64))"
JS_GRAPH = "Array.from(document.querySelectorAll('img')).map(i => i.src.length + ':' + i.src.slice(-64))"
JS_CLICK = ("(label => { const b = Array.from(document.querySelectorAll('button'))"
            ".find(x => x.innerText.trim() === label); if (!b) return false; b.click(); return true; })")

BUTTONS = "Array.from(document.querySelectorAll('button')).map(x => x.innerText.trim())"


def press_play(b: Chromium, timeout: float = 60.0) -> None:
    """Press the dashboard's ▶ until the page confirms that it plays (pause button or a new day).

    A click that lands before the widget is wired is lost, not an error; a click is repeated
    only while the page still shows ▶ and the day has not moved, so it never toggles back.
    """
    day0 = b.eval(JS_DAY) or 0
    playing = f"({BUTTONS}.includes('❚❚') || {JS_DAY} > {day0})"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b.eval(playing):
            return
        b.eval(f"{JS_CLICK}('▶')")
        try:
            b.wait_for(playing, timeout=min(20.0, max(1.0, deadline - time.monotonic())))
            return
        except TimeoutError:
            continue
    raise TimeoutError("the dashboard did not start playing")


def press_pause(b: Chromium, timeout: float = 60.0) -> None:
    """Press ❚❚ and wait until the page shows ▶ again (the last frame is drawn)."""
    b.eval(f"{JS_CLICK}('❚❚')")
    b.wait_for(f"{BUTTONS}.includes('▶')", timeout=timeout)
