"""Questions the engine asks the operating system about a terminal's processes.

Is the foreground job blocked reading the terminal (it waits for input)? Does a
process started by a command listen on a TCP port? Does a URL answer? Each is a
plain function over pids, read from /proc through psutil, so they are cheap
enough to poll a few times a second and need no cooperation from the command.
"""

from __future__ import annotations

import os
import platform
import struct
import time
import urllib.error
import urllib.request

import psutil

#: System calls a process waits for the terminal in, by number as /proc/PID/syscall
#: shows them: read(2) itself, and the poll/select family that readline-based
#: programs (``python3 -i``) wait in before they read.
_WAITS = {
    "x86_64": {0: "read", 7: "poll", 23: "select", 270: "pselect6", 271: "ppoll"},
    "aarch64": {63: "read", 72: "pselect6", 73: "ppoll"},
}.get(platform.machine(), {})
_POLLIN = 0x1


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
    """True when ``pid`` waits to read the terminal (a prompt waits for input).

    A process reading the terminal is what a learner sees as a prompt: bash's
    ``read``, ``input()``, a y/N question, a password prompt on /dev/tty.
    Waits on pipes or sockets (a server) do not count.
    """
    try:
        with open(f"/proc/{pid}/syscall") as handle:
            fields = handle.read().split()
        call, args = _WAITS.get(int(fields[0])), [int(arg, 16) for arg in fields[1:4]]
    except (OSError, ValueError, IndexError):
        return False  # running, or gone
    if call == "read":
        fds = [args[0]]
    elif call in ("poll", "ppoll"):
        fds = _polled_fds(pid, address=args[0], count=args[1])
    elif call in ("select", "pselect6"):
        fds = _selected_fds(pid, count=args[0], address=args[1])
    else:
        return False
    return any(_is_terminal(pid, fd, tty_path) for fd in fds)


def _is_terminal(pid: int, fd: int, tty_path: str) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}") in (tty_path, "/dev/tty")
    except OSError:
        return False


def _read_memory(pid: int, address: int, size: int) -> bytes:
    if not address or not 0 < size <= 65536:
        return b""
    try:
        with open(f"/proc/{pid}/mem", "rb") as memory:
            memory.seek(address)
            return memory.read(size)
    except (OSError, ValueError, OverflowError):
        return b""


def _polled_fds(pid: int, address: int, count: int) -> list[int]:
    """The fds a poll(2) waits to read, from its ``struct pollfd`` array."""
    data = _read_memory(pid, address, count * 8)
    entries = struct.iter_unpack("ihh", data[: len(data) // 8 * 8])
    return [fd for fd, events, _ in entries if events & _POLLIN]


def _selected_fds(pid: int, count: int, address: int) -> list[int]:
    """The fds a select(2) waits to read, from its read ``fd_set``."""
    bits = int.from_bytes(_read_memory(pid, address, (count + 7) // 8), "little")
    return [fd for fd in range(count) if bits >> fd & 1]


#: Programs that relay the terminal to a program elsewhere (a container, another
#: host): they read the terminal all the time, and what waits behind them cannot
#: be seen from here, so quiet output decides for them.
REMOTE_RELAYS = frozenset(
    {"ssh", "docker", "podman", "nerdctl", "kubectl", "oc", "lxc", "mosh-client", "telnet"}
)


def input_wait(master_fd: int, shell_pid: int, tty_path: str) -> str:
    """Does the terminal's foreground job wait for keyboard input?

    ``"waits"`` or ``"busy"`` when its processes tell; ``"unknown"`` when a relay
    to a program elsewhere (``ssh``, ``docker run -it``) reads the terminal.
    A local relay (``script``, ``sudo`` with use_pty) holds a pty of its own:
    it waits when the program behind it waits on that pty.
    """
    for pid in foreground_pids(master_fd, shell_pid):
        if not reads_terminal(pid, tty_path):
            continue
        inner = _relayed_programs(pid, tty_path)
        if inner is not None:
            if any(reads_terminal(child, path) for child, path in inner):
                return "waits"
            continue
        try:
            name = psutil.Process(pid).name()
        except psutil.Error:
            continue
        return "unknown" if name in REMOTE_RELAYS else "waits"
    return "busy"


def _relayed_programs(pid: int, tty_path: str) -> list[tuple[int, str]] | None:
    """For a local relay (it holds a pty master), its descendants on other
    terminals with the terminal each reads; None when ``pid`` relays nothing."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
        targets = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds}
    except OSError:
        return None
    if not targets & {"/dev/ptmx", "/dev/pts/ptmx"}:
        return None
    inner = []
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    for child in children:
        try:
            path = os.readlink(f"/proc/{child.pid}/fd/0")
        except OSError:
            continue
        if path.startswith("/dev/pts/") and path != tty_path:
            inner.append((child.pid, path))
    return inner


def children_younger_than(pid: int, age: float) -> list[int]:
    """Children of ``pid`` started within the last ``age`` seconds.

    Start times are read in the kernel's own clock (ticks since boot, against
    /proc/uptime), not the wall clock, which may be set or skewed.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        with open("/proc/uptime") as handle:
            cutoff = float(handle.read().split()[0]) - age
        children = psutil.Process(pid).children()
    except (OSError, ValueError, psutil.Error):
        return []
    found = []
    for child in children:
        try:
            with open(f"/proc/{child.pid}/stat") as handle:
                started = int(handle.read().rsplit(")", 1)[1].split()[19]) / ticks
        except (OSError, ValueError, IndexError):
            continue
        if started >= cutoff:
            found.append(child.pid)
    return found


def waiting_for_input(master_fd: int, shell_pid: int, tty_path: str) -> bool:
    """True when the foreground job surely waits for keyboard input."""
    return input_wait(master_fd, shell_pid, tty_path) == "waits"


def listening_ports(root_pid: int, exclude: frozenset[int] | set[int]) -> list[int]:
    """TCP ports on which a descendant of ``root_pid`` (not in ``exclude``) listens."""
    ports: list[int] = []
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


def still_the_shell(group: int, shell_pid: int) -> bool:
    """Whether ``group``'s leader is a child that bash forked and that has not
    yet become the program (it runs bash's own code, with bash's SIGINT
    handler, until it execs). A Ctrl-C that lands then is lost to the program."""
    try:
        return os.readlink(f"/proc/{group}/exe") == os.readlink(f"/proc/{shell_pid}/exe")
    except OSError:
        return False


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
