"""The watchdog: parent of a terminal's bash, and reaper of all that bash starts.

The engine runs this file as a separate process (``python watchdog.py``) in a
session of its own, so signals aimed at the kernel's process group never reach
it. It makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``):
daemons started from the terminal (``nohup``, ``setsid``, Apache's double
fork) are re-parented to it instead of to init, so it can always find them.

It holds the read end of a *lifeline* pipe whose write end only the kernel
holds. When the kernel closes it, exits, or is killed with SIGKILL, the pipe
reads EOF and the watchdog kills every process below it, removes the scratch
folder and exits. The same happens when bash itself exits (``exit``).

Protocol on stdout, one line each: ``started PID`` or ``failed MESSAGE``,
then ``exited CODE`` when bash ends (CODE is negative for a signal).

Only the standard library and psutil are used, so the process starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

PR_SET_CHILD_SUBREAPER = 36

#: The kernel's Ctrl-C (SIGINT to its process group) must not stop the watchdog.
IGNORED_SIGNALS = (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)

#: How the process tree is taken down: each signal, then how long to wait for
#: the tree to go before the next one. SIGTERM lets Apache stop its children.
ESCALATION: tuple[tuple[signal.Signals, float], ...] = (
    (signal.SIGTERM, 3.0),
    (signal.SIGKILL, 3.0),
)


def become_subreaper() -> None:
    """Adopt orphaned descendants, so that daemons stay findable (Linux only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_children() -> dict[int, int]:
    """Collect every child that has ended; return {pid: exit code}."""
    ended: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended[pid] = os.waitstatus_to_exitcode(status)


def living_descendants() -> list[psutil.Process]:
    import psutil

    alive = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            continue
    return alive


def terminate_tree(shell_pid: int | None) -> None:
    """Signal every descendant, escalating along ESCALATION until none is left.

    The shell goes first and at once (SIGKILL): it holds no state worth saving,
    and an interactive bash ignores SIGTERM.
    """
    import psutil

    if shell_pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(shell_pid, signal.SIGKILL)
    for sig, grace in ESCALATION:
        procs = living_descendants()
        if not procs:
            return
        for proc in procs:
            try:
                proc.send_signal(sig)
                proc.send_signal(signal.SIGCONT)
            except psutil.NoSuchProcess:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            reap_children()
            if not living_descendants():
                return
            time.sleep(0.02)
    reap_children()


def spawn_shell(argv: list[str], tty_fd: int) -> subprocess.Popen[bytes]:
    """Start the shell in a new session with ``tty_fd`` as controlling terminal.

    Popen brings exec failures back as exceptions (its CLOEXEC error pipe) and
    resets SIGPIPE and friends to their defaults before exec.
    """

    def take_terminal() -> None:
        # Ignored signals survive exec, and bash cannot reset them: undo ours.
        for sig in IGNORED_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    return subprocess.Popen(
        argv,
        stdin=tty_fd,
        stdout=tty_fd,
        stderr=tty_fd,
        start_new_session=True,
        restore_signals=True,
        preexec_fn=take_terminal,
    )


def watch(lifeline_fd: int, shell: subprocess.Popen[bytes]) -> None:
    """Wait for the lifeline to close or the shell to exit, reaping orphans."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ended = reap_children()
        if shell.pid in ended:
            shell.returncode = ended[shell.pid]
            report(f"exited {ended[shell.pid]}")
            return
        ready, _, _ = select.select([lifeline_fd, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
        if lifeline_fd in ready and not os.read(lifeline_fd, 512):
            return


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tty-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    parser.add_argument("--scratch", required=True, help="folder to remove at the end")
    parser.add_argument("shell", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.shell[:1] == ["--"]:
        del args.shell[0]
    for sig in IGNORED_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    shell = None
    try:
        become_subreaper()
        shell = spawn_shell(args.shell, args.tty_fd)
        os.close(args.tty_fd)
        report(f"started {shell.pid}")
        watch(args.lifeline_fd, shell)
    except OSError as err:
        report(f"failed {err}")
        return 1
    finally:
        terminate_tree(shell.pid if shell and shell.returncode is None else None)
        shutil.rmtree(args.scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
