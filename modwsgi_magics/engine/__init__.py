"""The terminal engine: an interactive bash on a pty, driven command by command.

Nothing here imports IPython. :class:`Terminal` is the API; the other modules
are its parts: ``shell`` (the pty, FIFO and scratch folder), ``watchdog`` (the
terminal's parent process, which ends everything once the kernel goes),
``reader`` (the thread that drains the pty), ``job`` (one command's life),
``protocol`` with ``terminal.bashrc`` (what bash and the engine say to each
other), ``probes`` (/proc questions), ``output`` (bytes to notebook text).
"""

from .errors import (
    CommandFailed,
    CommandInterrupted,
    CommandTimeout,
    ExpectationFailed,
    InputRequired,
    ProgramEnded,
    TerminalBusy,
    TerminalError,
    TerminalExited,
    TerminalStartError,
)
from .results import Readiness, RunResult, TerminalStatus
from .terminal import Terminal

__all__ = [
    "CommandFailed",
    "CommandInterrupted",
    "CommandTimeout",
    "ExpectationFailed",
    "InputRequired",
    "ProgramEnded",
    "Readiness",
    "RunResult",
    "Terminal",
    "TerminalBusy",
    "TerminalError",
    "TerminalExited",
    "TerminalStartError",
    "TerminalStatus",
]
