"""The kernel's terminals on a Unix socket, for the Jupyter server to relay to the panel.

One socket per kernel (``paths.socket_path``), in a 0700 folder, accepting
only connections of the same user (``SO_PEERCRED``). Each connection views
one terminal; messages are JSON arrays, one a line, shaped as terminado's
(JupyterLab's own terminals) so that the relay passes them on as they are:

========================================  ==============================================
client to kernel                          kernel to client
========================================  ==============================================
``["attach", "1"]`` (first line)         ``["setup", {"terminal": "1", "columns": 120,
                                          "rows": 40}]``: a terminal to show, replay next
``["stdin", "ls\\r"]``: keys typed        ``["stdout", text]``: what the screen shows
``["set_size", rows, columns]``: the      ``["reset"]``: a fresh shell replaced the one
view's size (only rows are taken)         shown (``%terminal restart``); setup follows
\\                                        ``["waiting", text]``: no such terminal yet
========================================  ==============================================

Output never waits for a slow client: what the socket does not take at once
is queued for the connection's writer thread, and a connection that falls
:data:`MAX_QUEUED` bytes behind is closed (the panel reconnects and gets the
scrollback replayed). Sending at once, from the terminal's reader thread,
matters: handing each piece to another thread costs a switch of Python's
GIL, up to 5 ms each while the reader is busy, which made ``seq 100000``
four times slower. Nothing here imports
IPython; the magics publish each terminal they start (:meth:`PanelSocket.publish`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import struct
import threading
from collections import deque
from typing import Any

from ..engine import Terminal
from .paths import private_folder

#: Characters a connection may fall behind before it is dropped.
MAX_QUEUED = 8_000_000
#: ``struct ucred``: pid, uid, gid.
_UCRED = struct.Struct("3i")

Message = list[Any]


def encode(message: Message) -> bytes:
    """One message as one line.

    >>> encode(["stdout", "a\\r\\n"])
    b'["stdout", "a\\\\r\\\\n"]\\n'
    """
    return json.dumps(message, ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> Message | None:
    """A line as a message, or None for anything that is not a JSON array."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, list) and message else None


class PanelSocket:
    """Serves this process's terminals, by name, on the Unix socket ``path``."""

    def __init__(self, path: str) -> None:
        if not private_folder(path, create=True):
            raise PermissionError(f"{os.path.dirname(path)} is not a private (0700) folder of ours")
        self.path = path
        self._terminals: dict[str, Terminal] = {}
        self._viewers: list[_Viewer] = []
        self._lock = threading.Lock()
        self._closed = False
        _remove_dead_sockets(os.path.dirname(path))  # kernels that were killed leave theirs
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)  # a restart keeps the kernel's id, and so the path
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            self._server.bind(path)
        finally:
            os.umask(old_umask)
        self._server.listen(8)
        self._thread = threading.Thread(target=self._accept, name="panel-socket", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"PanelSocket({self.path!r})"

    def publish(self, name: str, terminal: Terminal) -> None:
        """Show ``terminal`` as terminal ``name`` (a fresh one replaces the old)."""
        terminal.watch()  # the scrollback starts now, viewer or not
        with self._lock:
            self._terminals[name] = terminal
            viewers = [viewer for viewer in self._viewers if viewer.name == name]
        for viewer in viewers:
            viewer.show(terminal)

    def close(self) -> None:
        """Stop serving, drop every connection, remove the socket. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            viewers, self._viewers = self._viewers, []
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        for viewer in viewers:
            viewer.close()

    # -- connections ------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            _, uid, _ = _UCRED.unpack(
                connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
            )
            if uid != os.getuid():
                connection.close()
                continue
            _Viewer(self, connection).start()

    def _attach(self, viewer: _Viewer) -> Terminal | None:
        with self._lock:
            if self._closed:
                return None
            self._viewers.append(viewer)
            return self._terminals.get(viewer.name)

    def _detach(self, viewer: _Viewer) -> None:
        with self._lock:
            if viewer in self._viewers:
                self._viewers.remove(viewer)

    def _terminal(self, name: str) -> Terminal | None:
        with self._lock:
            return self._terminals.get(name)


class _Viewer:
    """One connection: a reader thread for what the client sends, a writer thread
    for the queue of what the terminal shows."""

    def __init__(self, owner: PanelSocket, connection: socket.socket) -> None:
        self.owner = owner
        self.name = ""
        self._connection = connection
        self._queue: deque[bytes] = deque()
        self._sending = False  # the writer thread sends, outside the lock
        self._queued = 0
        # Lock order: _switch, then a terminal's and its feed's locks, then
        # _ready (the feed calls _stdout with its lock held).
        self._switch = threading.Lock()
        self._ready = threading.Condition()
        self._closed = False
        self._unsubscribe: Any = None

    def start(self) -> None:
        threading.Thread(target=self._read, name="panel-viewer-in", daemon=True).start()
        threading.Thread(target=self._write, name="panel-viewer-out", daemon=True).start()

    def show(self, terminal: Terminal) -> None:
        """View ``terminal`` from now on: its size, then its scrollback and stream."""
        with self._switch:
            if self._closed:
                return
            replaced = self._unsubscribe is not None
            if replaced:
                self._unsubscribe()
            rows, columns = terminal.size
            with self._ready:
                if replaced:
                    self._send(["reset"])
                self._send(["setup", {"terminal": self.name, "columns": columns, "rows": rows}])
            self._unsubscribe = terminal.watch().subscribe(self._stdout)

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        with self._switch:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
        with contextlib.suppress(OSError):
            self._connection.shutdown(socket.SHUT_RDWR)
        self.owner._detach(self)

    def _stdout(self, text: str) -> None:
        with self._ready:
            self._send(["stdout", text])

    def _send(self, message: Message) -> None:
        """Send ``message`` now if the socket takes it, else queue the rest for the
        writer thread (call with ``_ready`` held); too far behind, give up."""
        if self._closed:
            return
        data = encode(message)
        if not self._queue and not self._sending:
            try:
                data = data[self._connection.send(data, socket.MSG_DONTWAIT) :]
            except BlockingIOError:
                pass
            except OSError:
                self._closed = True
                self._ready.notify_all()
                return
            if not data:
                return
        self._queue.append(data)
        self._queued += len(data)
        if self._queued > MAX_QUEUED:
            self._queue.clear()
            self._closed = True  # the writer closes the connection
        self._ready.notify_all()

    def _read(self) -> None:
        try:
            with self._connection.makefile("rb") as lines:
                first = decode(lines.readline())
                if not first or first[0] != "attach" or len(first) < 2:
                    return
                self.name = str(first[1])
                terminal = self.owner._attach(self)
                if terminal is not None:
                    self.show(terminal)
                else:
                    with self._ready:
                        self._send(["waiting", f"terminal {self.name} starts with its first cell"])
                for line in lines:
                    self._handle(decode(line))
        except OSError:
            pass
        finally:
            self.close()

    def _handle(self, message: Message | None) -> None:
        terminal = self.owner._terminal(self.name)
        if message is None or terminal is None or terminal.exited:
            return
        if message[0] == "stdin" and len(message) > 1 and isinstance(message[1], str):
            terminal.send_keys(message[1])
        elif message[0] == "set_size" and len(message) > 1 and isinstance(message[1], int):
            terminal.resize(message[1])

    def _write(self) -> None:
        try:
            while True:
                with self._ready:
                    self._ready.wait_for(lambda: self._queue or self._closed)
                    if self._closed:
                        return
                    batch = b"".join(self._queue)
                    self._queue.clear()
                    self._queued = 0
                    self._sending = True
                try:
                    self._connection.sendall(batch)
                finally:
                    with self._ready:
                        self._sending = False
        except OSError:
            pass
        finally:
            self.close()
            self._connection.close()


def _remove_dead_sockets(folder: str) -> None:
    """Remove the sockets in ``folder`` (ours, 0700) that no process listens on."""
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if not entry.name.endswith(".sock") or not stat.S_ISSOCK(
                    entry.stat(follow_symlinks=False).st_mode
                ):
                    continue
            except OSError:
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.2)
                try:
                    probe.connect(entry.path)
                except ConnectionRefusedError:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                except OSError:
                    pass
