"""The classroom test's machinery: a hub of its own, and learners who use it as
a browser would, through the hub's login form, REST API and proxy.

``test_classroom.py`` starts a hub with ``python -m modwsgi_magics.classroom
start --background`` (what ``scripts/classroom.sh`` runs), on free ports, with
a group, nftables table and port base of its own, so that it never meets a
real classroom or another test run on the machine. A :class:`HubLearner` signs
in with the login form, gets an API token with the session cookie, starts their
server through the hub's API, and runs notebook cells in their kernels over the
kernel websocket, through the hub's proxy: the path a learner's browser takes.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from modwsgi_magics.classroom import Settings, accounts
from modwsgi_magics.classroom.errors import HubError

_XSRF_INPUT = re.compile(r'name="_xsrf" value="([^"]+)"')
_XSRF_PAGE = re.compile(r'xsrf_token: *"([^"]+)"')
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class CellFailed(AssertionError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Classroom:
    """A hub of its own: ``Classroom.open(...)``, then ``close()``."""

    url: str
    password: str
    env: dict[str, str]
    settings: Settings
    pid_file: Path

    @classmethod
    def open(
        cls,
        notebooks: Path,
        wheelhouse: Path,
        port_base: int,
        idle_timeout: int = 0,
        pass_env: str = "",
    ) -> Classroom:
        """A hub as scripts/classroom.sh starts it, on free ports, with names of its own."""
        tag = secrets.token_hex(3)
        state = Path(tempfile.mkdtemp(prefix="cls-state-", dir="/tmp"))
        env = {
            **os.environ,
            "CLASSROOM_PASSWORD": secrets.token_urlsafe(9),
            "CLASSROOM_PORT": str(_free_port()),
            "CLASSROOM_HUB_API_PORT": str(_free_port()),
            "CLASSROOM_PROXY_API_PORT": str(_free_port()),
            "CLASSROOM_STATE_DIR": str(state),
            "CLASSROOM_NOTEBOOKS": str(notebooks),
            "CLASSROOM_GROUP": f"cls-{tag}",
            "CLASSROOM_NFT_TABLE": f"cls_{tag}",
            "CLASSROOM_PORT_BASE": str(port_base),
            "CLASSROOM_IDLE_TIMEOUT": str(idle_timeout),
            "CLASSROOM_WHEELHOUSE": str(wheelhouse),
            "CLASSROOM_PASS_ENV": pass_env,
        }
        settings = Settings.from_environ(env)
        classroom = cls(
            f"http://127.0.0.1:{settings.port}", settings.password, env, settings, state / "hub.pid"
        )
        started = classroom._launcher("start", "--background", timeout=120)
        if started.returncode != 0:
            classroom.close()
            raise HubError(f"the hub did not start:\n{started.stdout}\n{started.stderr}")
        # the instructor is told what to tell the class
        assert settings.password in started.stdout, started.stdout
        return classroom

    def learner(self, suffix: str) -> HubLearner:
        return HubLearner(self.url, f"{self.settings.group}-{suffix}")

    def close(self) -> list[str]:
        """Stop the hub; remove the learners' accounts, the group and the hub's state;
        return what the launcher had to kill (nothing, when all went well)."""
        stopped = self._launcher("stop", timeout=120)
        assert stopped.returncode == 0, stopped.stderr
        group = self.settings.group
        for entry in accounts.learners(group):
            accounts.remove(entry.pw_name, group)
        subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(self.settings.state_dir, ignore_errors=True)
        return [line for line in stopped.stdout.splitlines() if "had to kill" in line]

    def _launcher(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "modwsgi_magics.classroom", *args]
        argv += ["--pid-file", str(self.pid_file)]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HubLearner:
    """One learner at their browser: ``HubLearner(hub_url, name)``."""

    hub: str
    name: str
    token: str = ""
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    # -- plain HTTP ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        timeout: float = 30,
    ) -> Reply:
        data, sent = None, dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        token = self.token if token is None else token
        if token:
            sent["Authorization"] = f"token {token}"
        req = urllib.request.Request(self.hub + path, data=data, method=method, headers=sent)
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return Reply(response.status, response.read().decode(errors="replace"))
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode(errors="replace"))

    # -- the hub ------------------------------------------------------------

    def sign_in(self, workshop_password: str, own_password: str) -> bool:
        """The login form, as a browser fills it; whether the hub let them in."""
        page = self.request("GET", "/hub/login", token="")
        xsrf = _XSRF_INPUT.search(page.body)
        assert xsrf, page.body[-500:]
        form = {
            "_xsrf": xsrf.group(1),
            "username": self.name,
            "password": workshop_password,
            "otp": own_password,
        }
        reply = self.request("POST", "/hub/login", form=form, token="")
        return reply.status == 200 and "login_error" not in reply.body

    def get_token(self) -> str:
        """An API token, asked for with the session cookie (as the hub's token page does)."""
        home = self.request("GET", "/hub/home", token="")
        xsrf = _XSRF_PAGE.search(home.body)
        assert xsrf, f"not signed in: {home.status}"
        reply = self.request(
            "POST",
            f"/hub/api/users/{self.name}/tokens",
            {"note": "classroom test", "expires_in": 3600},
            headers={"X-XSRFToken": xsrf.group(1)},
            token="",
        )
        assert reply.status == 201, reply
        self.token = reply.json()["token"]
        return self.token

    def server(self) -> dict[str, Any] | None:
        reply = self.request("GET", f"/hub/api/users/{self.name}")
        assert reply.status == 200, reply
        found: dict[str, Any] | None = reply.json().get("servers", {}).get("")
        return found

    def start_server(self, timeout: float = 120) -> None:
        reply = self.request("POST", f"/hub/api/users/{self.name}/server")
        assert reply.status in (201, 202), reply
        self._wait(lambda s: s is not None and s.get("ready"), timeout, "to start")

    def stop_server(self, timeout: float = 60) -> None:
        reply = self.request("DELETE", f"/hub/api/users/{self.name}/server")
        assert reply.status in (202, 204), reply
        self._wait(lambda s: s is None, timeout, "to stop")

    def _wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.server()):
            assert time.monotonic() < deadline, f"{self.name}'s server took over {timeout} s {what}"
            time.sleep(0.25)

    # -- their JupyterLab ----------------------------------------------------

    def lab(self, method: str, path: str, body: Any = None) -> Reply:
        return self.request(method, f"/user/{self.name}/{path}", body)

    def kernel(self, notebook: str) -> Kernel:
        """A kernel for ``notebook`` (a path in their home): it starts in its folder."""
        body = {"path": notebook, "type": "notebook", "kernel": {"name": "python3"}}
        reply = self.lab("POST", "api/sessions", body)
        assert reply.status == 201, reply
        session = reply.json()
        return Kernel(self, session["id"], session["kernel"]["id"])


@dataclass
class Kernel:
    """A learner's kernel, spoken to over its websocket through the hub's proxy."""

    learner: HubLearner
    session_id: str
    kernel_id: str

    def run(self, code: str, timeout: float = 600) -> str:
        """Run one cell; return what it showed; ``CellFailed`` if it failed."""
        return asyncio.run(self._run(code, timeout))

    def shutdown(self) -> None:
        reply = self.learner.lab("DELETE", f"api/sessions/{self.session_id}")
        assert reply.status == 204, reply

    async def _run(self, code: str, timeout: float) -> str:
        url = self.learner.hub.replace("http", "ws", 1)
        url += f"/user/{self.learner.name}/api/kernels/{self.kernel_id}/channels"
        request = HTTPRequest(url, headers={"Authorization": f"token {self.learner.token}"})
        socket = await websocket_connect(request)
        try:
            msg_id = uuid.uuid4().hex
            socket.write_message(json.dumps(_execute_request(msg_id, code)))
            return await asyncio.wait_for(_collect(socket, msg_id), timeout)
        finally:
            socket.close()


def _execute_request(msg_id: str, code: str) -> dict[str, Any]:
    header = {
        "msg_id": msg_id,
        "msg_type": "execute_request",
        "username": "test",
        "session": uuid.uuid4().hex,
        "date": "",
        "version": "5.3",
    }
    content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False}
    content |= {"user_expressions": {}, "stop_on_error": True}
    return {
        "header": header,
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": "shell",
    }


async def _collect(socket: Any, msg_id: str) -> str:
    shown: list[str] = []
    replied = idle = False
    error = None
    while not (replied and idle):
        raw = await socket.read_message()
        assert raw is not None, "the kernel's websocket closed"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            shown.append(content["text"])
        elif kind == "error":
            error = "\n".join(content["traceback"])
        elif kind in ("execute_result", "display_data"):
            shown.append(content["data"].get("text/plain", ""))
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "execute_reply":
            replied = True
    text = _ANSI.sub("", "".join(shown))
    if error is not None:
        raise CellFailed(f"{_ANSI.sub('', error)}\n--- the cell showed:\n{text[-3000:]}")
    return text
