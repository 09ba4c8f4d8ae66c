"""A real headless Chromium (Debian's `chromium`, installed by tests/run.sh), driven over the
DevTools protocol on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out, NUL-terminated
JSON), so no driver library is needed. The page runs with the network emulated offline; every
request, failed load, console message and uncaught exception is recorded."""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time

import pytest

INSTALL = "apt-get install -y chromium (tests/run.sh installs it)"


class Browser:
    def __init__(self, profile_dir):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            pytest.fail(f"chromium not found: {INSTALL}")
        # Our ends: we write commands into to_child, read answers from from_child.
        child_in, self._out = os.pipe()
        self._in, child_out = os.pipe()
        # The child's ends above 9, so moving them to 3 and 4 cannot clobber one another.
        child_in, child_out = (self._above_9(fd) for fd in (child_in, child_out))

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                f"--user-data-dir={profile_dir}", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--window-size=1280,900", "about:blank"]
        # The shell moves our pipe ends to the fds Chromium expects (3 and 4) and execs it.
        wrapper = ["bash", "-c", f'exec "$@" 3<&{child_in} 4>&{child_out} {child_in}<&- {child_out}>&-', "chromium"]
        self.proc = subprocess.Popen(wrapper + args, pass_fds=(child_in, child_out),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_in)
        os.close(child_out)
        self._buf = b""
        self._id = 0
        self.events = []
        self.session = None

    @staticmethod
    def _above_9(fd):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def _send(self, method, params=None, session=True):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, timeout):
        deadline = time.time() + timeout
        while b"\0" not in self._buf:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=True, timeout=60):
        want = self._send(method, params, session)
        while True:
            msg = self._read(timeout)
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method, timeout=60):
        for e in self.events:
            if e["method"] == method:
                return e
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = self._read(timeout)
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(method)

    def open(self, url, width=1280):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Network.emulateNetworkConditions",
                  {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        # Let late work (script, layout) settle and its events arrive.
        self.evaluate("new Promise(r => setTimeout(r, 300))", await_promise=True)

    def evaluate(self, expression, await_promise=False):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": await_promise})
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1})
        data = self.call("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))

    def requests(self):
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def failures(self):
        return [e["params"] for e in self.events if e["method"] == "Network.loadingFailed"]

    def console_errors(self):
        out = [e["params"]["exceptionDetails"] for e in self.events if e["method"] == "Runtime.exceptionThrown"]
        out += [e["params"] for e in self.events
                if e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")]
        out += [e["params"]["entry"] for e in self.events
                if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
        return out

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._in)
        os.close(self._out)
