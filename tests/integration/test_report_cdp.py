"""Open a page in real headless Chromium through the DevTools protocol (helpers, no tests here).

Every request the page makes is logged; any that would leave the file system
is refused (Fetch domain), and console errors, uncaught exceptions and failed
loads are collected. Outside CI a missing browser skips with a clear message;
under CI (`CI=true`) it fails.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INSTALL = "apt-get update && apt-get install -y chromium"


def chromium() -> str:
    """The browser's path; a clear skip (a failure under CI) when it is not installed."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    message = f"headless Chromium is not installed (Debian: `{INSTALL}`)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class PageVisit:
    """What happened while a page loaded."""

    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def off_file_system(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file://", "data:", "about:"))]


class Browser:
    """One headless Chromium and a DevTools session on one tab."""

    def __init__(self) -> None:
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="cs-chromium-")
        self.process = subprocess.Popen(
            [
                chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--metrics-recording-only", "--mute-audio",
                "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                "--window-size=1280,1600", "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.ws = connect(self._endpoint(), max_size=64 * 2**20, open_timeout=30)
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call("Fetch.enable", session=True, patterns=[{"urlPattern": "*"}])

    def _endpoint(self) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if "DevTools listening on" in line:
                return line.split("DevTools listening on", 1)[1].strip()
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError("Chromium did not start its DevTools endpoint")

    def call(self, method: str, session: bool = False, **params: Any) -> Any:
        self._id += 1
        wanted = self._id
        message: dict[str, Any] = {"id": wanted, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._event(reply)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event.get("method") == "Fetch.requestPaused":
            params = event["params"]
            url = params["request"]["url"]
            if url.startswith(("file://", "data:")):
                self._send("Fetch.continueRequest", requestId=params["requestId"])
            else:
                self._send("Fetch.failRequest", requestId=params["requestId"],
                           errorReason="BlockedByClient")  # fmt: skip

    def _send(self, method: str, **params: Any) -> None:
        """A command whose reply nobody waits for (answering a paused request)."""
        self._id += 1
        self.ws.send(
            json.dumps(
                {"id": self._id, "method": method, "params": params, "sessionId": self.session}
            )
        )

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return
            if "method" in message:
                self._event(message)

    def visit(
        self, path: Path, *, settle: float = 1.5, screenshot: Path | None = None
    ) -> PageVisit:
        """Load a file, wait for it to settle, collect what happened (and a screenshot)."""
        start = len(self.events)
        url = path.resolve().as_uri()
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired" for e in self.events[start:]):
                break
            self.pump(0.2)
        self.pump(settle)
        visit = PageVisit(url)
        for event in self.events[start:]:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Fetch.requestPaused" and not params["request"]["url"].startswith(
                ("file://", "data:")
            ):
                visit.blocked.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                visit.errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                visit.errors.append(json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.errors.append(f"{params['entry'].get('text')} {params['entry'].get('url')}")
            elif method == "Network.loadingFailed":
                visit.errors.append(f"load failed: {params.get('errorText')}")
        if screenshot is not None:
            shot = self.call(
                "Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True
            )
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        return visit

    def evaluate(self, expression: str) -> Any:
        """A JavaScript expression's value (JSON-serialisable) in the page."""
        result = self.call(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
