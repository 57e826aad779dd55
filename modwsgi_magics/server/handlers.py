"""The relay's two routes, both behind the Jupyter server's own authentication.

* ``GET /modwsgi-magics/kernels/KERNEL_ID``: ``{"terminals": true}`` once that
  kernel serves terminals (its socket exists and is private), else false.
* ``WS /modwsgi-magics/kernels/KERNEL_ID/terminals/N``: terminal N of that
  kernel. Each websocket message is one line of the kernel socket's protocol
  (``panel/socket.py``), or several (lines that came together travel in one
  message, a line a message); from the browser only ``stdin`` and
  ``set_size`` go through, one message each.

Both ask the server's authorizer for the ``kernels`` resource (``execute`` for
the websocket: typing into a terminal runs code, as a kernel does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..panel.paths import private_folder, socket_path

_KERNEL = r"(?P<kernel_id>[\w-]+)"
#: How much of the kernel's stream one read takes.
READ_SIZE = 1 << 20
#: What the browser may send.
BROWSER_MESSAGES = ("stdin", "set_size")


def kernel_socket(handler: JupyterHandler, kernel_id: str) -> str | None:
    """The socket of the kernel ``kernel_id`` if it serves terminals; 404 for no such kernel."""
    manager = handler.kernel_manager
    if kernel_id not in manager:
        raise web.HTTPError(404, f"no kernel {kernel_id}")
    connection_file = getattr(manager.get_kernel(kernel_id), "connection_file", "")
    if not connection_file:
        return None
    path = socket_path(connection_file)
    try:
        info = os.stat(path)
    except OSError:
        return None
    if info.st_uid != os.getuid() or not private_folder(path, create=False):
        return None
    return path


def answers(path: str) -> bool:
    """True when a kernel listens on ``path``: a killed kernel leaves its socket behind."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


class KernelTerminalsHandler(APIHandler):
    auth_resource = "kernels"

    @web.authenticated
    @authorized
    def get(self, kernel_id: str) -> None:
        path = kernel_socket(self, kernel_id)
        self.finish(json.dumps({"terminals": path is not None and answers(path)}))


class TerminalSocketHandler(WebSocketMixin, JupyterHandler, WebSocketHandler):
    auth_resource = "kernels"

    _writer: asyncio.StreamWriter | None = None
    _relay: asyncio.Task[None] | None = None

    async def get(self, *args: Any, **kwargs: Any) -> None:
        user = self.current_user
        if not user:
            raise web.HTTPError(403)
        if self.authorizer is None or not await ensure_async(
            self.authorizer.is_authorized(self, user, "execute", self.auth_resource)
        ):
            raise web.HTTPError(403)
        path = kernel_socket(self, kwargs["kernel_id"])
        if path is None:
            raise web.HTTPError(404, "this kernel serves no terminals (yet)")
        self._path = path
        await super().get(*args, **kwargs)

    async def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        try:
            reader, self._writer = await asyncio.open_unix_connection(self._path)
        except OSError:
            self.close(1011, "the kernel's terminals are gone")
            return
        self._writer.write(json.dumps(["attach", kwargs["name"]]).encode() + b"\n")
        self._relay = asyncio.ensure_future(self._from_kernel(reader))

    async def _from_kernel(self, reader: asyncio.StreamReader) -> None:
        """Pass on whole lines, as many as have come, in one websocket message."""
        pending = b""
        with contextlib.suppress(OSError, ValueError, WebSocketClosedError):
            while chunk := await reader.read(READ_SIZE):
                pending += chunk
                cut = pending.rfind(b"\n") + 1
                if cut:
                    await self.write_message(pending[:cut].decode(errors="replace"))
                    pending = pending[cut:]
        self.close(1000, "the kernel's terminals ended")

    def on_message(self, message: str | bytes) -> None:
        try:
            parsed = json.loads(message)
        except ValueError:
            return
        ok = isinstance(parsed, list) and parsed and parsed[0] in BROWSER_MESSAGES
        if ok and self._writer is not None and not self._writer.is_closing():
            self._writer.write(json.dumps(parsed).encode() + b"\n")

    def on_close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._relay is not None:
            self._relay.cancel()


def setup_handlers(web_app: Any) -> None:
    base = url_path_join(web_app.settings["base_url"], "modwsgi-magics", "kernels")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, _KERNEL), KernelTerminalsHandler),
            (url_path_join(base, _KERNEL, "terminals", r"(?P<name>\d+)"), TerminalSocketHandler),
        ],
    )
