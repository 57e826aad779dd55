"""The reader: one thread per terminal that drains its pty and its status FIFO.

It turns the pty's bytes into notebook text (decoded, the engine's own lines
hidden) and the FIFO's NUL-separated fields into :class:`StatusRecord`s, and
hands both to the terminal's callbacks in order: everything a command printed
reaches ``on_text`` before its record reaches ``on_record``. Draining all the
time keeps a ``--bg`` server from blocking on a full terminal.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable

from .output import TerminalDecoder
from .protocol import RECORD_FIELDS, StatusRecord, engine_lines, hide_engine
from .shell import ShellProcess


class TerminalReader:
    """Drains one terminal on a daemon thread until its watchdog reports the end."""

    def __init__(
        self,
        process: ShellProcess,
        on_text: Callable[[str], None],
        on_record: Callable[[StatusRecord], None],
        on_exit: Callable[[int], None],
        name: str,
    ) -> None:
        self._process = process
        self._on_text = on_text
        self._on_record = on_record
        self._on_exit = on_exit
        self._decoder = TerminalDecoder()
        self._engine_lines = engine_lines(process.cell_path)
        self._status_buffer = b""
        #: Also gets every byte read from the pty, as read: a view's feed (view.py).
        self.on_bytes: Callable[[bytes], None] | None = None
        self.thread = threading.Thread(
            target=self._loop, name=f"terminal-{name}-reader", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        process = self._process
        channels = [process.master, process.status_fd, process.watchdog_fd]
        while True:
            ready, _, _ = select.select(channels, [], [])
            if process.master in ready:
                self._drain_pty()
            if process.status_fd in ready:
                self._read_status()
            if process.watchdog_fd in ready:
                line = os.read(process.watchdog_fd, 4096).decode()
                self._drain_pty(final=True)
                self._on_exit(int(line.split()[1]) if line.startswith("exited") else -9)
                return

    def _drain_pty(self, final: bool = False) -> None:
        """Read all the pty holds (Linux flushes in-flight pty data before EAGAIN);
        ``final`` also flushes what the decoder held back: a command has ended."""
        while True:
            try:
                data = os.read(self._process.master, 65536)
            except OSError:  # EAGAIN: drained; EIO: no one holds the terminal
                break
            if not data:
                break
            if self.on_bytes is not None:
                self.on_bytes(data)
            self._emit(self._decoder.feed(data))
        if final:
            self._emit(self._decoder.flush())

    def _emit(self, text: str) -> None:
        if not text:
            return
        text = hide_engine(text, self._process.cell_path, self._engine_lines)
        if text:
            self._on_text(text)

    def _read_status(self) -> None:
        try:
            self._status_buffer += os.read(self._process.status_fd, 65536)
        except BlockingIOError:
            return
        fields = self._status_buffer.split(b"\0")
        while len(fields) > RECORD_FIELDS:
            record, fields = fields[:RECORD_FIELDS], fields[RECORD_FIELDS:]
            self._drain_pty(final=True)  # output before the prompt belongs to the command
            self._on_record(StatusRecord.from_fields(record))
        self._status_buffer = b"\0".join(fields)
