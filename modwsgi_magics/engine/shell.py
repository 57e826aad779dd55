"""The operating-system side of a terminal: pty, status FIFO, scratch folder, watchdog.

:class:`ShellProcess` owns these resources and nothing else; the command
protocol on top of them is described in :mod:`.protocol`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import TerminalStartError
from .protocol import CELL_VARIABLE, FIFO_VARIABLE, bash_argv

WATCHDOG = Path(__file__).with_name("watchdog.py")

#: Set for every terminal: colours on, and pagers that print instead of waiting.
TERMINAL_ENVIRONMENT = {
    "TERM": "xterm-256color",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "SYSTEMD_PAGER": "cat",
}


def _sane_modes(attrs: list[Any]) -> list[Any]:
    """``attrs`` (tcgetattr's list) with what ``stty sane`` restores, echo off."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = attrs
    iflag = (iflag | termios.ICRNL | termios.BRKINT) & ~(termios.INLCR | termios.IGNCR)
    oflag |= termios.OPOST | termios.ONLCR
    lflag = (lflag | termios.ICANON | termios.ISIG | termios.IEXTEN) & ~termios.ECHO
    lflag = (lflag | termios.ECHOE | termios.ECHOK) & ~termios.ECHOCTL  # no ^C in cells
    cc = list(cc)
    cc[termios.VINTR], cc[termios.VEOF], cc[termios.VERASE] = b"\x03", b"\x04", b"\x7f"
    cc[termios.VKILL], cc[termios.VSUSP] = b"\x15", b"\x1a"
    return [iflag, oflag, cflag, lflag, ispeed, ospeed, cc]


class ShellProcess:
    """An interactive bash on a fresh pty, started by a watchdog in its own session.

    ``cell_path`` is where the engine writes each command; ``status_fd`` reads
    the records bash's PROMPT_COMMAND writes. Both live in ``scratch``, a 0700
    folder the watchdog removes even if this process is killed.
    """

    def __init__(
        self, shell: str, cwd: str, env: dict[str, str] | None, columns: int, rows: int
    ) -> None:
        self.scratch = tempfile.mkdtemp(prefix="modwsgi-magics-")  # mode 0700
        self.cell_path = os.path.join(self.scratch, "cell")
        self._fds: list[int] = []
        self.watchdog: subprocess.Popen[bytes] | None = None  # None until started
        try:
            self._open_channels(columns, rows)
            self._start_watchdog(shell, cwd, env)
        except BaseException as err:
            self.stop()
            self.release()
            if isinstance(err, OSError) and not isinstance(err, TerminalStartError):
                raise TerminalStartError(f"{shell} could not start in {cwd}: {err}") from None
            raise

    def _open_channels(self, columns: int, rows: int) -> None:
        fifo = os.path.join(self.scratch, "status")
        os.mkfifo(fifo, 0o600)
        self.status_fd = self._keep(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        self._keep(os.open(fifo, os.O_WRONLY))  # so that reads never see EOF
        self.master, self.slave = (self._keep(fd) for fd in os.openpty())
        self.tty_path = os.ttyname(self.slave)
        attrs = termios.tcgetattr(self.slave)
        attrs[3] &= ~termios.ECHO  # the line the engine types stays unseen
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        os.set_blocking(self.master, False)

    def _start_watchdog(self, shell: str, cwd: str, env: dict[str, str] | None) -> None:
        lifeline_r, lifeline_w = os.pipe()
        self._lifeline = self._keep(lifeline_w)
        shell_env = dict(os.environ if env is None else env)
        shell_env.pop("PROMPT_COMMAND", None)
        shell_env.update(TERMINAL_ENVIRONMENT)
        shell_env[FIFO_VARIABLE] = os.path.join(self.scratch, "status")
        shell_env[CELL_VARIABLE] = self.cell_path
        argv = [sys.executable, str(WATCHDOG), "--tty-fd", str(self.slave)]
        argv += ["--lifeline-fd", str(lifeline_r), "--scratch", self.scratch, "--"]
        argv += bash_argv(shell)
        try:
            self.watchdog = watchdog = subprocess.Popen(
                argv,
                pass_fds=(self.slave, lifeline_r),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                cwd=cwd,
                env=shell_env,
                start_new_session=True,
            )
        finally:
            os.close(lifeline_r)
        assert watchdog.stdout is not None  # stdout=PIPE
        self._watchdog_out = watchdog.stdout
        self.watchdog_pid = watchdog.pid
        word, _, rest = self._watchdog_out.readline().decode().strip().partition(" ")
        if word != "started":
            raise TerminalStartError(f"{shell} did not start: {rest or 'the watchdog died'}")
        self.pid = int(rest)

    def prepare_to_type(self) -> None:
        """Drop stale type-ahead and restore sane terminal modes, as a shell's
        prompt does: a program killed in raw mode (``tty.setraw``) or a cell's
        ``stty raw`` must not turn the next run line into raw bytes. Echo stays
        off (``stty sane`` turns it on), so the typed run line stays unseen."""
        termios.tcflush(self.slave, termios.TCIFLUSH)
        attrs = termios.tcgetattr(self.slave)
        sane = _sane_modes(attrs)
        if sane != attrs:
            termios.tcsetattr(self.slave, termios.TCSANOW, sane)

    def echo_once_queued(self, begun: Callable[[], bool], timeout: float = 1.0) -> None:
        """Turn echo on for the command, as a terminal has it, once the typed run
        line is in the terminal's input queue (so it is not echoed itself).

        Programs decide how to echo from the terminal's mode when they start:
        readline (a REPL, a nested shell) echoes nothing where echo was off.
        The pty hands written bytes to the line discipline asynchronously, so
        wait until they are queued, or bash has read them (``begun``).
        """
        deadline = time.monotonic() + timeout
        while not self.unread_input() and not begun() and time.monotonic() < deadline:
            time.sleep(0.0001)
        attrs = termios.tcgetattr(self.slave)
        attrs[3] |= termios.ECHO
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)

    def status_pending(self) -> bool:
        """A status record waits in the FIFO for the reader thread."""
        return bool(select.select([self.status_fd], [], [], 0)[0])

    def unread_input(self) -> int:
        """Bytes typed into the terminal that no program has read yet."""
        count = fcntl.ioctl(self.slave, termios.FIONREAD, b"\0\0\0\0")
        return int(struct.unpack("i", count)[0])

    def set_echo(self, on: bool) -> None:
        """Turn the tty's echo on (an idle terminal with a view) or off."""
        with contextlib.suppress(termios.error):
            attrs = termios.tcgetattr(self.slave)
            lflag = attrs[3] | termios.ECHO if on else attrs[3] & ~termios.ECHO
            if lflag != attrs[3]:
                attrs[3] = lflag
                termios.tcsetattr(self.slave, termios.TCSANOW, attrs)

    def resize(self, rows: int) -> None:
        """Set the terminal's height; programs get SIGWINCH. The width stays."""
        with contextlib.suppress(OSError):
            _, columns = self.size()
            fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def size(self) -> tuple[int, int]:
        """The terminal's rows and columns."""
        rows, columns, _, _ = struct.unpack(
            "HHHH", fcntl.ioctl(self.slave, termios.TIOCGWINSZ, b"\0" * 8)
        )
        return rows, columns

    def press_ctrl_c(self, shell_pid: int) -> None:
        """Ctrl-C as the terminal would deliver it: typed, which signals the
        foreground job and discards unread input; or, where a program turned
        that off (raw mode), the same done by hand, so no stray ``^C`` byte
        is left for bash to read as a command."""
        if termios.tcgetattr(self.slave)[3] & termios.ISIG:
            self.type(b"\x03")
            return
        termios.tcflush(self.slave, termios.TCIFLUSH)
        with contextlib.suppress(OSError):
            os.killpg(os.tcgetpgrp(self.master), signal.SIGINT)

    def type(self, data: bytes) -> None:
        """Write all of ``data`` to the terminal, however full its input queue is."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view) :]
            except BlockingIOError:
                select.select([], [self.master], [], 1.0)

    def write_cell(self, text: str) -> None:
        """Replace the cell file's text, without O_TRUNC.

        ext4 flushes a file that was truncated on open to disk when it is
        closed (auto_da_alloc): 0.2 ms a command. Writing, then cutting to
        length, costs a few microseconds.
        """
        data = text.encode()
        fd = os.open(self.cell_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)

    def _keep(self, fd: int) -> int:
        self._fds.append(fd)
        return fd

    @property
    def watchdog_fd(self) -> int:
        return self._watchdog_out.fileno()

    def stop(self, timeout: float = 20.0) -> None:
        """Close the lifeline; the watchdog ends every process of the terminal, then itself."""
        if self._fds and getattr(self, "_lifeline", None) in self._fds:
            self._fds.remove(self._lifeline)
            os.close(self._lifeline)
        if self.watchdog is None:
            return
        try:
            self.watchdog.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.watchdog.kill()
            self.watchdog.wait()

    def release(self) -> None:
        """Close the file descriptors and remove the scratch folder."""
        if self.watchdog is not None and self.watchdog.stdout is not None:
            self.watchdog.stdout.close()
        while self._fds:
            os.close(self._fds.pop())
        shutil.rmtree(self.scratch, ignore_errors=True)
