"""Questions the engine asks the operating system about a terminal's processes.

Is the foreground job blocked reading the terminal (it waits for input)? Does a
process started by a command listen on a TCP port? Does a URL answer? Each is a
plain function over pids, read from /proc through psutil, so they are cheap
enough to poll a few times a second and need no cooperation from the command.
"""

from __future__ import annotations

import os
import platform
import time
import urllib.error
import urllib.request

import psutil

#: The number of the read(2) system call, as /proc/PID/syscall shows it.
_READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "arm64": 63, "i686": 3, "armv7l": 3}.get(
    platform.machine()
)


def foreground_pids(master_fd: int, shell_pid: int) -> list[int]:
    """The shell and its descendants that belong to the terminal's foreground job."""
    try:
        group = os.tcgetpgrp(master_fd)
        shell = psutil.Process(shell_pid)
        candidates = [shell, *shell.children(recursive=True)]
    except (OSError, psutil.Error):
        return []
    pids = []
    for proc in candidates:
        try:
            if os.getpgid(proc.pid) == group:
                pids.append(proc.pid)
        except OSError:
            continue
    return pids


def reads_terminal(pid: int, tty_path: str) -> bool:
    """True when ``pid`` sits in read(2) on the terminal (a prompt waits for input).

    A process reading the terminal is what a learner sees as a prompt: bash's
    ``read``, ``input()``, a y/N question. Blocking reads of pipes or sockets
    do not count.
    """
    try:
        with open(f"/proc/{pid}/syscall") as handle:
            fields = handle.read().split()
    except OSError:
        return False
    if _READ_SYSCALL is None or len(fields) < 2 or fields[0] != str(_READ_SYSCALL):
        return False
    try:
        return os.readlink(f"/proc/{pid}/fd/{int(fields[1], 16)}") == tty_path
    except (OSError, ValueError):
        return False


def waiting_for_input(master_fd: int, shell_pid: int, tty_path: str) -> bool:
    return any(reads_terminal(pid, tty_path) for pid in foreground_pids(master_fd, shell_pid))


def listening_ports(root_pid: int, exclude: set[int]) -> list[int]:
    """TCP ports on which a descendant of ``root_pid`` (not in ``exclude``) listens."""
    ports = []
    try:
        procs = psutil.Process(root_pid).children(recursive=True)
    except psutil.Error:
        return ports
    for proc in procs:
        if proc.pid in exclude:
            continue
        try:
            connections = proc.net_connections(kind="tcp")
        except psutil.Error:
            continue
        ports.extend(c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN)
    return ports


def wait_for_group_to_end(group: int, timeout: float) -> bool:
    """Wait until no process of process group ``group`` is left; False at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        time.sleep(0.01)
    return False


def descendant_pids(root_pid: int) -> set[int]:
    try:
        return {proc.pid for proc in psutil.Process(root_pid).children(recursive=True)}
    except psutil.Error:
        return set()


#: Readiness checks go straight to the server, never through an http_proxy.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def url_answers(url: str, timeout: float = 1.0) -> bool:
    """True once ``url`` gives any HTTP response, an error status included."""
    try:
        with _DIRECT.open(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
